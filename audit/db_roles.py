"""The PostgreSQL roles a production installation runs with (README, "Database roles").

- owner (`opsportal_owner`, LOGIN): owns the database's schema and tables, runs
  `migrate` and `archive_audit`. Owning the tables, it could disable the audit
  triggers: that is what the anchored checkpoints detect.
- app (`opsportal_app`, LOGIN): what the web processes and workers log in as. Normal
  DML everywhere except the audit log: SELECT and INSERT only on entries, seals and
  checkpoints. Member of `pg_read_all_stats`, so the sealer sees every session's
  transaction start (audit/sealing.py).
- archiver (`opsportal_audit_archiver`, NOLOGIN): owns `audit_archive_through()`, the
  one way rows leave the log; the triggers let DELETE through only for it. No one is
  granted membership in it.

`roles_sql()` is the script a superuser runs (README, "Database roles"): the roles
(`create`, once, before the database exists), then the grants (`grants`, in the
migrated database, again after every `migrate`: it is idempotent, so new tables get
their grants and the archive function its owner). Passwords are not part of it
(`ALTER ROLE ... PASSWORD`, or your platform's authentication).
"""

from audit.models import AuditCheckpoint, AuditEntry, AuditSeal

ARCHIVE_FUNCTION = "audit_archive_through(bigint,text,text,text)"
APPEND_ONLY = (AuditEntry, AuditSeal, AuditCheckpoint)


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r}: role names are letters, digits and underscores")
    return f'"{name}"'


def _create(name: str, login: bool) -> str:
    option = "LOGIN" if login else "NOLOGIN"
    return (
        f"DO $$ BEGIN\n"
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN\n"
        f"    CREATE ROLE {_ident(name)} {option};\n"
        # Only when it differs: altering a shared role row that another session alters at
        # the same moment fails with "tuple concurrently updated".
        f"  ELSIF (SELECT rolcanlogin FROM pg_roles WHERE rolname = '{name}') IS DISTINCT FROM"
        f" {'true' if login else 'false'} THEN\n"
        f"    ALTER ROLE {_ident(name)} {option};\n"
        f"  END IF;\n"
        f"END $$;"
    )


def roles_sql(
    *,
    owner: str = "opsportal_owner",
    app: str = "opsportal_app",
    archiver: str = "opsportal_audit_archiver",
    schema: str = "public",
    create: bool = True,
    grants: bool = True,
) -> str:
    o, a, r, s = _ident(owner), _ident(app), _ident(archiver), _ident(schema)
    entry, seal, checkpoint = (f"{s}.{_ident(m._meta.db_table)}" for m in APPEND_ONLY)
    append_only = f"{entry}, {seal}, {checkpoint}"
    function = f"{s}.{ARCHIVE_FUNCTION}"
    parts = ["-- OpsPortal database roles (audit/db_roles.py). Run as a superuser."]
    if create:
        parts += [_create(owner, True), _create(app, True), _create(archiver, False)]
    if not grants:
        return "\n".join(parts) + "\n"
    parts += [
        "-- Nobody becomes the archiver: it only owns the archive function.",
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {o};",
        f"GRANT USAGE ON SCHEMA {s} TO {a}, {r};",
        f"GRANT pg_read_all_stats TO {a};",
        "-- The application: normal DML on the tables migrate has created so far ...",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {a};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {a};",
        "-- ... but the audit log is append-only for it: no UPDATE, DELETE or TRUNCATE.",
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {append_only} FROM {a};",
        f"GRANT SELECT, INSERT ON {append_only} TO {a};",
        "-- Tables of later migrations (rerun this script after each migrate all the same).",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s}"
        f" GRANT USAGE, SELECT ON SEQUENCES TO {a};",
        "-- The archive function runs as the archiver; only the owner role may call it.",
        f"GRANT SELECT, DELETE ON {entry}, {seal} TO {r};",
        f"GRANT SELECT ON {checkpoint} TO {r};",
        f"GRANT INSERT ON {entry} TO {r};",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {r};",
        f"ALTER FUNCTION {function} OWNER TO {r};",
        f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC;",
        f"GRANT EXECUTE ON FUNCTION {function} TO {o};",
    ]
    return "\n".join(parts) + "\n"
