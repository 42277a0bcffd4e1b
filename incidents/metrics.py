"""Open incidents by severity (Prometheus, `/metrics`), counted at scrape time."""

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from incidents.models import Incident

OPEN_STATES = (Incident.Status.OPEN, Incident.Status.MITIGATED)


class IncidentCollector:
    def collect(self):
        family = GaugeMetricFamily(
            "opsportal_incidents_open",
            "Incidents not yet resolved (open or mitigated), by severity",
            labels=["severity"],
        )
        counts = dict(
            Incident.objects.filter(status__in=OPEN_STATES)
            .values("severity")
            .annotate(n=Count("id"))
            .values_list("severity", "n")
        )
        for severity in Incident.Severity.values:
            family.add_metric([severity], counts.get(severity, 0))
        yield family
