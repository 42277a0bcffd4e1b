from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vouchers.services import station_create


class Command(BaseCommand):
    help = (
        "Create a station and print its API token (last line; shown once, only its hash is kept)."
    )

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--name", required=True)

    def handle(self, *args, code, name, **options):
        try:
            issued = station_create(code=code, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Station {issued.station.code} created. Its token (shown once):")
        self.stdout.write(issued.token)
