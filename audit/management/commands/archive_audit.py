from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.archive import ArchiveRefused, audit_archive


class Command(BaseCommand):
    help = (
        "Retention: write audit entries 1..N (with hashes) to a new JSON Lines file, verify "
        "it, then remove them from the database. The remaining chain stays verifiable."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--through-id",
            type=int,
            required=True,
            help="archive every entry with id <= this (a sealed entry)",
        )
        parser.add_argument("--out", type=Path, required=True, help="a new .jsonl file")

    def handle(self, *args, through_id, out, **options):
        try:
            result = audit_archive(through_id=through_id, out=Path(out))
        except ArchiveRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"archived {result.count} entries through {result.through_id} to {out} "
            f"(sha256 {result.file_sha256}); the chain now starts from {result.anchor_hash}"
        )
