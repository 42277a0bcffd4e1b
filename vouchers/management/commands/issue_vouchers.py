from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from vouchers.models import Station
from vouchers.services import vouchers_issue


class Command(BaseCommand):
    help = "Issue vouchers and print one code per line."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--amount", required=True)
        parser.add_argument("--currency", required=True)
        parser.add_argument(
            "--station", action="append", default=[], help="station code (repeatable)"
        )
        parser.add_argument("--expires-in-days", type=int)

    def handle(self, *args, count, amount, currency, station, expires_in_days, **options):
        try:
            amount = Decimal(amount)
        except InvalidOperation as exc:
            raise CommandError(f"--amount {amount!r} is not a number.") from exc
        codes = [c.strip().upper() for c in station]
        stations = list(Station.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {s.code for s in stations})
        if unknown:
            raise CommandError(f"Unknown station(s): {', '.join(unknown)}")
        try:
            vouchers = vouchers_issue(
                count=count,
                amount=amount,
                currency=currency.upper(),
                stations=stations,
                expires_in_days=expires_in_days,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write("\n".join(v.code for v in vouchers))
