import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand
from django.utils import timezone

from audit.signing import public_key_text


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 key pair for signing audit checkpoints (the private key is "
        "shown once: put it in your secret store, e.g. AUDIT_SIGNING_KEY_FILE)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--id", default="", help="key id (default: audit-<today>), never reused"
        )

    def handle(self, *args, id, **options):
        key_id = id or f"audit-{timezone.now():%Y%m%d}"
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        self.stdout.write(f"AUDIT_SIGNING_KEY_ID={key_id}")
        self.stdout.write(f"AUDIT_SIGNING_KEY={base64.b64encode(raw).decode()}")
        self.stdout.write(
            "# When this key is replaced, keep its public key listed so its checkpoints verify:"
        )
        self.stdout.write(f"# AUDIT_VERIFY_KEYS=...,{key_id}={public_key_text(key)}")
