import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The browser caches its filter choices briefly; each test starts from an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
