import sys

from django.core.management.base import BaseCommand

from audit.verification import audit_verify


class Command(BaseCommand):
    help = "Walk the audit hash chain; report the first broken link. Exit status 1 if broken."

    def handle(self, *args, **options):
        result = audit_verify()
        if not result.ok:
            self.stderr.write(f"BROKEN at {result.problem}")
            sys.exit(1)
        self.stdout.write(
            f"OK: {result.checked} entries verified; head entry {result.head_id} "
            f"hash {result.head_hash}; {result.checkpoints} signed checkpoint(s) hold; "
            f"{result.unsealed} newer entries not sealed yet"
        )
