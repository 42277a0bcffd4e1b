"""Search the whole database for a string: proves a secret was never stored."""

from django.db import connection


def database_contains(text: str) -> bool:
    """Search every text column of our tables for `text`."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('character varying', 'text', 'jsonb')"
        )
        for table, column in cursor.fetchall():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "{column}"::text LIKE %s LIMIT 1', [f"%{text}%"]
            )
            if cursor.fetchone():
                return True
    return False
