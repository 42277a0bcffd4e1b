from django import template

from audit.links import audit_entries_url

register = template.Library()


@register.simple_tag
def audit_url(obj=None, **kwargs):
    """{% load audit_links %}<a href="{% audit_url voucher %}">Audit trail</a>
    or {% audit_url incident_id=incident.pk %}."""
    return audit_entries_url(obj, **kwargs)
