"""Scratch PostgreSQL roles for the tests, made with the production script (`db_roles`).

`scratch_roles()` creates, in the test database and committed (so other connections see
them), an application role, an archiver role and optionally a plain role, and drops them
afterwards. The test suite's own superuser connection stands in for the owner role: it
owns the tables, as `opsportal_owner` does in production.
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from django.db import connection

from audit.db_roles import roles_sql


def _connect(user: str, *, autocommit: bool = True) -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=user,
        password=s["PASSWORD"] or None if user == s["USER"] else None,
        dbname=s["NAME"],
        autocommit=autocommit,
    )


@dataclass
class Roles:
    owner: str
    app: str
    archiver: str
    plain: str

    def connect(self, role: str, *, autocommit: bool = True) -> psycopg.Connection:
        return _connect(role, autocommit=autocommit)


@contextmanager
def scratch_roles():
    tag = f"t{uuid.uuid4().hex[:10]}"
    owner = connection.settings_dict["USER"]
    roles = Roles(owner=owner, app=f"{tag}_app", archiver=f"{tag}_archiver", plain=f"{tag}_plain")
    sql = roles_sql(owner=owner, app=roles.app, archiver=roles.archiver)
    with _connect(owner) as admin:
        admin.execute(sql)
        admin.execute(f'CREATE ROLE "{roles.plain}" LOGIN')
    try:
        yield roles
    finally:
        with _connect(owner) as admin:
            for role in (roles.app, roles.plain):  # whoever is still connected as them
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                    [role],
                )
            admin.execute(f'REASSIGN OWNED BY "{roles.archiver}" TO "{owner}"')
            for role in (roles.app, roles.archiver, roles.plain):
                admin.execute(f'DROP OWNED BY "{role}"')
                admin.execute(f'DROP ROLE "{role}"')
