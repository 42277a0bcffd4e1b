"""Audit health (Prometheus, `/metrics`), read at scrape time: how far sealing lags
behind the log, and how long ago the chain head was last checkpointed and anchored."""

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from audit import models


def _age(when, now) -> float | None:
    return None if when is None else max(0.0, (now - when).total_seconds())


class AuditCollector:
    def collect(self):
        now = timezone.now()
        head = (
            models.AuditSeal.objects.order_by("-entry_id")
            .values_list("entry_id", flat=True)
            .first()
            or 0
        )
        newest = models.AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        oldest_unsealed = (
            models.AuditEntry.objects.filter(id__gt=head)
            .order_by("id")
            .values_list("at", flat=True)
        ).first()
        yield GaugeMetricFamily(
            "opsportal_audit_unsealed_entries",
            "Entries past the sealed chain head (ids; rolled-back gaps count too)",
            value=max(0, newest - head),
        )
        yield GaugeMetricFamily(
            "opsportal_audit_seal_lag_seconds",
            "Age of the oldest entry not yet sealed (0 when all are sealed)",
            value=_age(oldest_unsealed, now) or 0.0,
        )
        checkpoint = (
            models.AuditCheckpoint.objects.order_by("-id")
            .values_list("created_at", flat=True)
            .first()
        )
        if checkpoint is not None:
            yield GaugeMetricFamily(
                "opsportal_audit_last_checkpoint_age_seconds",
                "Seconds since the chain head was last checkpointed",
                value=_age(checkpoint, now),
            )
        anchor_model = getattr(models, "AuditAnchor", None)  # the anchor store's bookkeeping
        if anchor_model is not None:
            anchored = (
                anchor_model.objects.order_by("-anchored_at")
                .values_list("anchored_at", flat=True)
                .first()
            )
            if anchored is not None:
                yield GaugeMetricFamily(
                    "opsportal_audit_last_anchor_age_seconds",
                    "Seconds since a checkpoint was last written to the anchor store",
                    value=_age(anchored, now),
                )
