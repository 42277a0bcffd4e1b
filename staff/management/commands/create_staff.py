import sys
from getpass import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from staff.roles import ROLES
from staff.services import staff_create


class Command(BaseCommand):
    help = "Create a staff user in one role (or change an existing user's role)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=list(ROLES))
        parser.add_argument("--password", help="prompted for when omitted and stdin is a terminal")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, password, email, **options):
        if password is None and sys.stdin.isatty():
            password = getpass("Password: ")
            if password != getpass("Password (again): "):
                raise CommandError("The passwords differ.")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        user = staff_create(
            username=username, role=role, password=password, email=email, via="command line"
        )
        note = "" if password is not None else " (no password set: cannot log in until one is)"
        self.stdout.write(f"{user.username}: role {role}{note}")
