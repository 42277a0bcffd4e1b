from django.core.management.base import BaseCommand

from audit.sealing import audit_checkpoint_create, audit_seal


class Command(BaseCommand):
    help = "Link committed audit entries into the hash chain now, and sign the new head."

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-wait",
            type=float,
            default=5.0,
            help="seconds to wait for older open transactions (default 5)",
        )
        parser.add_argument("--no-checkpoint", action="store_true")

    def handle(self, *args, max_wait, no_checkpoint, **options):
        result = audit_seal(max_wait=max_wait)
        checkpoint = None if no_checkpoint else audit_checkpoint_create()
        self.stdout.write(
            f"sealed {result.sealed} entries; head entry {result.head_id} hash {result.head_hash}"
        )
        if checkpoint:
            self.stdout.write(f"checkpoint #{checkpoint.id} signed at entry {checkpoint.entry_id}")
        if result.waiting:
            self.stdout.write(
                self.style.WARNING(
                    "an older transaction is still open; newer entries will be sealed later"
                )
            )
