"""`make run`'s first step: write a local `.env` (git-ignored) when there is none, so every
`manage.py` command of the README works in any terminal, not only under `make run`.

    python -m opsportal.first_run [--path .env]

Standard library only (it runs before anything is configured). It never overwrites an
existing file: delete `.env` to get a fresh one. Development only: production takes its
settings from the environment (README, "Configuration").
"""

import argparse
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The key DEBUG used before `.env` existed (opsportal/settings.py): a database made with it
# has audit checkpoints signed with it, which must still verify.
OLD_DEBUG_KEY = "insecure-development-key-only-used-with-DEBUG-true-0123456789"


def dotenv_text(*, existing_database: bool) -> str:
    lines = [
        "# Written by `make run` on its first run (opsportal/first_run.py). Development only;",
        "# git-ignored. Every manage.py command reads it, in any terminal. Delete it to start over.",
        "DEBUG=true",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
    ]
    if existing_database:
        lines += [
            "# db.sqlite3 predates this file: its audit checkpoints were signed with the old",
            "# development key, kept here so verify_audit still accepts them.",
            f"AUDIT_CHECKPOINT_KEY={OLD_DEBUG_KEY}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=ROOT / ".env")
    args = parser.parse_args(argv)
    if args.path.exists():
        print(f"{args.path} exists: kept as it is.")
        return 0
    existing = (args.path.parent / "db.sqlite3").exists()
    args.path.write_text(dotenv_text(existing_database=existing))
    args.path.chmod(0o600)  # it holds a secret key
    print(f"Wrote {args.path} (DEBUG=true, a new SECRET_KEY): manage.py works in any terminal.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
