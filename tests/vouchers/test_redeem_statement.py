"""The redeem statement stays within psycopg's parse cache (queries up to 4096 bytes are
parsed once per process; longer ones on every request)."""

from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

from vouchers.redeem_sql import REDEEM_SQL


def test_statement_fits_psycopgs_query_cache():
    assert len(REDEEM_SQL.encode()) <= MAX_CACHED_STATEMENT_LENGTH
