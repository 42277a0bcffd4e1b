"""Other apps link their objects to the auditor's browser: URL helper, template tag, admin mixin."""

from django.template import Context, Template

from audit.admin import AuditTrailMixin

BROWSE = "/admin/audit/auditentry/browse/"


def test_template_tag_links_an_object(auditor_user):
    html = Template(
        "{% load audit_links %}{% audit_url obj %}|{% audit_url incident_id=4 %}"
    ).render(Context({"obj": auditor_user}))
    assert html == (
        f"{BROWSE}?target_type=auth.user&amp;target_id={auditor_user.pk}|{BROWSE}?incident=4"
    )


def test_admin_mixin_renders_a_link(auditor_user):
    html = AuditTrailMixin().audit_trail(auditor_user)
    assert f'href="{BROWSE}?target_type=auth.user&amp;target_id={auditor_user.pk}"' in html
    assert AuditTrailMixin().audit_trail(None) == "—"
