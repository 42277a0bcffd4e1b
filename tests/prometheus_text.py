"""Reading a /metrics page in tests with prometheus-client's own parser."""

from prometheus_client.parser import text_string_to_metric_families


def metric(text: str, name: str, **labels) -> float:
    """Sum of the samples `name{labels…}` in a Prometheus text page (labels matched as a
    subset); 0 when none."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == str(v) for k, v in labels.items())
    )
