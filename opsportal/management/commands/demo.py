from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns.models import Campaign, Target
from staff.roles import ROLES
from staff.services import staff_create
from vouchers.models import Station, Voucher
from vouchers.services import station_create, station_token_rotate, vouchers_issue

DEMO_PASSWORD = "opsportal-demo"
STATIONS = [
    ("KGL-001", "Kigali Remera"),
    ("KGL-002", "Kigali Nyamirambo"),
    ("HYE-001", "Huye Centre"),
]
DEMO_VOUCHERS = 300
DEMO_TARGETS = 200


class Command(BaseCommand):
    help = (
        "Load demo data (idempotent): stations, vouchers, a campaign with targets, one user per "
        "role. --tokens: also issue new tokens for the demo stations and print them. --leak "
        "(while `make run` runs): plant a leaked service-role key to rotate."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tokens",
            action="store_true",
            help="issue new demo station tokens and print them; the old ones stop working "
            "(each rotation is audited)",
        )
        parser.add_argument(
            "--leak",
            action="store_true",
            help="Also plant a leaked key in the running simulator and moto, open a Credential "
            "Leak incident and print the three clicks that rotate it.",
        )
        parser.add_argument("--simulator", default="http://127.0.0.1:8787")
        parser.add_argument("--portal", default="http://127.0.0.1:8000")

    def handle(self, *args, tokens=False, leak=False, simulator="", portal="", **options):
        with transaction.atomic():
            for role in ROLES:
                staff_create(
                    username=role, role=role, password=DEMO_PASSWORD, email=f"{role}@example.com"
                )
            new_tokens = self._stations()
            if tokens:
                new_tokens += self._tokens_reissued(skip={code for code, _ in new_tokens})
            self._vouchers()
            self._campaign()
            self._supabase_projects()
        self.stdout.write("Demo data ready. Log in at http://127.0.0.1:8000/admin/ as:")
        for role in ROLES:
            self.stdout.write(f"  {role:8} / {DEMO_PASSWORD}")
        for code, token in new_tokens:
            self.stdout.write(f"  station {code} token (shown once): {token}")
        if not tokens and not new_tokens:
            self.stdout.write("  (station tokens were shown when first issued: demo --tokens)")
        if leak:
            from opsportal.demo_leak import leak_instructions, leak_plant

            planted = leak_plant(simulator_url=simulator)
            for line in leak_instructions(planted, portal_url=portal, simulator_url=simulator):
                self.stdout.write(line)

    def _stations(self) -> list[tuple[str, str]]:
        issued = []
        for code, name in STATIONS:
            if not Station.objects.filter(code=code).exists():
                issued.append((code, station_create(code=code, name=name).token))
        return issued

    def _tokens_reissued(self, *, skip: set[str]) -> list[tuple[str, str]]:
        """Station tokens are kept only as hashes: a lost one is replaced, never recovered."""
        codes = [code for code, _ in STATIONS if code not in skip]
        return [
            (station.code, station_token_rotate(station=station))
            for station in Station.objects.filter(code__in=codes).order_by("code")
        ]

    def _vouchers(self) -> None:
        missing = DEMO_VOUCHERS - Voucher.objects.count()
        if missing <= 0:
            return
        kigali = list(Station.objects.filter(code__startswith="KGL"))
        half = missing // 2
        vouchers_issue(count=half, amount=Decimal("5000"), currency="RWF", expires_in_days=90)
        vouchers_issue(
            count=missing - half,
            amount=Decimal("10000"),
            currency="RWF",
            stations=kigali,
            expires_in_days=30,
        )

    def _campaign(self) -> None:
        campaign, _ = Campaign.objects.get_or_create(
            name="Demo: weekend fuel promo",
            defaults={
                "template": "fuel_promo_v2",
                "template_variables": {"discount": "10%"},
                "throttle_per_minute": 600,
                "quiet_hours_start": "21:00",
                "quiet_hours_end": "07:00",
                "time_zone": "Africa/Kigali",
            },
        )
        Target.objects.bulk_create(
            [Target(campaign=campaign, phone=f"+25078800{i:04d}") for i in range(DEMO_TARGETS)],
            ignore_conflicts=True,
        )

    def _supabase_projects(self) -> None:
        """The Credential Leak runbook's project registry (who to notify, where the key lives)."""
        from rotation.models import SupabaseProject

        for env, ref, prefix, owner, slack in [
            ("production", "easymoprodprojectref", "prod", "Grace Mukamana", "U0PRODOWNER"),
            ("staging", "easymostagingproject", "stg", "Eric Habimana", "U0STGOWNER"),
        ]:
            SupabaseProject.objects.get_or_create(
                environment=env,
                defaults={
                    "project_ref": ref,
                    "primary_owner": owner,
                    "owner_email": f"{owner.split()[0].lower()}@example.com",
                    "owner_slack": slack,
                    "service_role_secret_id": f"{prefix}/easymo/supabase/service-role",
                    "vercel_project": "station-web",
                    "vercel_env_vars": ["SUPABASE_SERVICE_ROLE_KEY"],
                    "vercel_targets": ["production"] if env == "production" else ["preview"],
                    "function_secret_names": ["SERVICE_ROLE_KEY"],
                    "edge_functions": ["voucher-png", "send-whatsapp"],
                },
            )
