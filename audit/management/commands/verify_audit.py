import sys

from django.core.management.base import BaseCommand

from audit.signing import SigningKeyError
from audit.verification import audit_verify
from audit.verify_report import problem_lines, summary_lines


class Command(BaseCommand):
    help = (
        "Verify the audit log: the hash chain, the numbered signed checkpoints and the "
        "anchor store; print the entries not yet protected by an anchor. Exit status 0 "
        "verified, 1 tampering found (the first entry affected is named), 2 incomplete."
    )

    def handle(self, *args, **options):
        try:
            result = audit_verify().as_dict()
        except SigningKeyError as exc:  # e.g. an unreadable AUDIT_VERIFY_KEYS entry
            self.stderr.write(f"INCOMPLETE: {exc}")
            sys.exit(2)
        for line in problem_lines(result):
            self.stderr.write(line)
        for line in summary_lines(result):
            self.stdout.write(line)
        if result["problems"]:
            sys.exit(1)
        if not result["complete"]:
            sys.exit(2)
