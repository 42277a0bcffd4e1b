from django.core.management.base import BaseCommand, CommandError

from audit.db_roles import roles_sql


class Command(BaseCommand):
    help = (
        "Print the SQL that creates the production database roles (owner, app, audit "
        "archiver) and grants what each may do; a superuser runs it with psql, once and "
        "again after every migrate. See README, 'Database roles'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--print-sql", action="store_true", required=True)
        parser.add_argument("--owner", default="opsportal_owner")
        parser.add_argument("--app", default="opsportal_app")
        parser.add_argument("--archiver", default="opsportal_audit_archiver")
        parser.add_argument("--schema", default="public")
        only = parser.add_mutually_exclusive_group()
        only.add_argument(
            "--roles-only",
            action="store_true",
            help="create the roles (once, before the database exists)",
        )
        only.add_argument(
            "--grants-only",
            action="store_true",
            help="grant, in the migrated database (after every migrate)",
        )

    def handle(self, *args, owner, app, archiver, schema, roles_only, grants_only, **options):
        try:
            sql = roles_sql(
                owner=owner,
                app=app,
                archiver=archiver,
                schema=schema,
                create=not grants_only,
                grants=not roles_only,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(sql, ending="")
