"""What Django's debug error page (DEBUG=true) and error e-mails may show: no secret.

Django hides settings whose names match API|TOKEN|KEY|SECRET|PASS|SIGNATURE; ours also have
JWTs (`SUPABASE_FUNCTIONS_JWT`), credentials and service-role keys. The same names are
hidden among request headers/environment, POST parameters and the traceback's local
variables, and any value that still looks like a credential (audit.redaction's patterns)
or a URL with a password in it is masked.
"""

import re

from django.views.debug import SafeExceptionReporterFilter

from audit.redaction import SECRET_KEY_NAMES, mask_text

HIDDEN = re.compile(
    "|".join(
        [
            r"API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE",  # Django's own
            r"JWT|AUTH|CREDENTIAL|PRIVATE|SERVICE[_-]?ROLE|DSN|SALT",
            SECRET_KEY_NAMES.pattern,  # whatever the audit log treats as a secret name
        ]
    ),
    flags=re.IGNORECASE,
)
URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@")


class SecretsExceptionReporterFilter(SafeExceptionReporterFilter):
    hidden_settings = HIDDEN

    def cleanse_setting(self, key, value):
        value = super().cleanse_setting(key, value)
        if isinstance(value, str) and value != self.cleansed_substitute:
            text = str(value)  # also a lazy string
            return mask_text(URL_PASSWORD.sub(rf"\g<1>{self.cleansed_substitute}@", text))
        return value

    def get_post_parameters(self, request):
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for name in cleansed:
            cleansed[name] = self.cleanse_setting(name, cleansed[name])
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleanse_setting(name, value) if isinstance(name, str) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]
