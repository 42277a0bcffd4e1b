from django.core.management.base import BaseCommand, CommandError

from audit.anchors import audit_anchor_pending
from audit.checkpoints import audit_checkpoint_create
from audit.sealing import audit_seal
from audit.signing import SigningKeyError


class Command(BaseCommand):
    help = (
        "Link committed audit entries into the hash chain now, sign the new head and write "
        "pending checkpoints to the anchor store."
    )

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
        self.stdout.write(
            f"sealed {result.sealed} entries; head entry {result.head_id} hash {result.head_hash}"
        )
        if result.waiting:
            self.stdout.write(
                self.style.WARNING(
                    "an older transaction is still open; newer entries will be sealed later"
                )
            )
        if no_checkpoint:
            return
        try:
            checkpoint = audit_checkpoint_create()
        except SigningKeyError as exc:
            raise CommandError(f"no checkpoint signed: {exc}") from exc
        if checkpoint:
            self.stdout.write(
                f"checkpoint #{checkpoint.number} signed at entry {checkpoint.entry_id}"
            )
        anchored = audit_anchor_pending()
        if anchored.written:
            self.stdout.write(f"{anchored.written} checkpoint(s) written to the anchor store")
        if anchored.error:
            self.stdout.write(
                self.style.WARNING(f"anchoring failed (retried next run): {anchored.error}")
            )
