from django.conf import settings
from django.db import models


def person(*, null: bool = True, blank: bool = True) -> models.ForeignKey:
    """Who did something (opened, ran, approved, wrote). No database constraint and no
    cascade: the record outlives the user, and each model keeps the name next to it."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=null,
        blank=blank,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
