"""What the roles may do, from memory: not two permission queries on every request.

`CachedPermissionsBackend` is Django's `ModelBackend` whose permission sets (a user's own
and their groups' — in practice one of the four role groups) are kept per process, keyed
by user, and reused until something that can change them changes: a group's
permissions, a user's groups or own permissions, a group or permission deleted
(`connect_permission_signals`, called from OpsPortalConfig.ready). Such a change writes a
new version token to the cache; every process compares its entries' token with the
cache's on each request (one cache read, no query) and reloads on a mismatch.

With CACHE_URL shared (Redis: what several processes and hosts use), a change applies
on the next request everywhere. With the default per-process cache a change reaches
only the process that made it, so entries also expire after PERMISSIONS_CACHE_SECONDS:
the bound on how long another process may still use the old permissions. `is_active`
and `is_superuser` are read from the user row each request loads anyway.
"""

import threading
import time
import uuid

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

VERSION_KEY = "opsportal:permissions:version"
MAX_ENTRIES = 2000  # staff users per process; past this the table starts over

_lock = threading.Lock()
_entries: dict[tuple[int, bool], tuple[str, float, frozenset[str]]] = {}


def permissions_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # first use, or the cache lost it: a new token invalidates all
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or ""
    return version


def permissions_changed(**kwargs) -> None:
    """Signal receiver: someone's permissions may have changed; every process reloads."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    with _lock:
        _entries.clear()


class CachedPermissionsBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(self._cached(user_obj))
        return user_obj._perm_cache

    def _cached(self, user_obj) -> frozenset[str]:
        key = (user_obj.pk, user_obj.is_superuser)
        version, now = permissions_version(), time.monotonic()
        entry = _entries.get(key)
        if entry and entry[0] == version and now - entry[1] < settings.PERMISSIONS_CACHE_SECONDS:
            return entry[2]
        perms = frozenset(super().get_all_permissions(user_obj))
        with _lock:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[key] = (version, now, perms)
        return perms


def connect_permission_signals() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete

    User = get_user_model()
    for through in (Group.permissions.through, User.groups.through, User.user_permissions.through):
        m2m_changed.connect(
            permissions_changed, sender=through, dispatch_uid=f"perm-cache-{through.__name__}"
        )
    for model in (Group, Permission):
        post_delete.connect(
            permissions_changed, sender=model, dispatch_uid=f"perm-cache-{model.__name__}"
        )
