from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from staff.services import api_token_create


class Command(BaseCommand):
    help = "Issue a staff API token for USERNAME and print it (shown once; only its hash is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if not user.is_staff or not user.is_active:
            raise CommandError(f"{username} is not an active staff user.")
        issued = api_token_create(user=user, name=name)
        self.stdout.write(
            f"Token for {username} (shown once; use as 'Authorization: Bearer <token>'):"
        )
        self.stdout.write(issued.plaintext)
