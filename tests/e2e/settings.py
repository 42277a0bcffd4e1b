"""The app's settings for the browser tests: the real ones, with a fast password hasher.

PBKDF2's deliberate slowness costs seconds per login and per seeded person on a shared CI
machine and proves nothing here (the rest of the suite makes the same trade).
"""

from opsportal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
