"""Find anything from the header's search box: incidents, vouchers, stations, campaigns and
audit entries, each kind only for those whose role may read it.

Every query is bounded: an index lookup by primary key, exact voucher code or (target_type,
target_id), or a substring match on a small table (incidents, stations, campaigns — tens to
thousands of rows), each capped at `LIMIT` rows. The big tables (vouchers, audit entries,
targets, send results) are never scanned with `ILIKE '%…%'`. A search only reads.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.urls import NoReverseMatch, reverse

LIMIT = 10
MAX_QUERY = 100
INCIDENT_ID = re.compile(r"^#?(\d{1,18})$")


@dataclass
class Hit:
    label: str
    url: str
    detail: str = ""
    state: str = ""
    at: datetime | None = None  # shown the portal's way (relative + local, UTC on hover)


@dataclass
class Kind:
    key: str
    title: str
    hits: list[Hit] = field(default_factory=list)
    more_url: str = ""  # the full list filtered the same way, when there may be more


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _incidents(q: str) -> Kind:
    from incidents.models import Incident

    match = INCIDENT_ID.match(q)
    where = Q(title__icontains=q)
    if match:
        where |= Q(pk=int(match.group(1)))
    rows = Incident.objects.filter(where).order_by("-id")[:LIMIT]
    return Kind(
        "incidents",
        "Incidents",
        [
            Hit(
                f"#{i.pk} {i.title}",
                _url("admin:incidents_incident_work", i.pk)
                or _url("admin:incidents_incident_change", i.pk),
                f"{i.runbook_title} · opened",
                i.status,
                i.opened_at,
            )
            for i in rows
        ],
    )


def _vouchers(q: str) -> tuple[Kind, list]:
    from vouchers.models import Voucher

    rows = list(Voucher.objects.filter(code=q.upper())[:LIMIT])  # exact: the unique index
    kind = Kind(
        "vouchers",
        "Vouchers",
        [
            Hit(
                v.code,
                _url("admin:vouchers_voucher_change", v.pk),
                f"{v.amount} {v.currency}",
                v.status,
            )
            for v in rows
        ],
    )
    return kind, rows


def _stations(q: str) -> tuple[Kind, list]:
    from vouchers.models import Station

    rows = list(
        Station.objects.filter(Q(code__istartswith=q) | Q(name__icontains=q)).order_by("code")[
            :LIMIT
        ]
    )
    kind = Kind(
        "stations",
        "Stations",
        [
            Hit(
                str(s),
                _url("admin:vouchers_station_change", s.pk),
                "" if s.active else "inactive",
                "" if s.active else "inactive",
            )
            for s in rows
        ],
    )
    return kind, rows


def _campaigns(q: str) -> tuple[Kind, list]:
    from campaigns.models import Campaign

    rows = list(Campaign.objects.filter(name__icontains=q).order_by("-id")[:LIMIT])
    kind = Kind(
        "campaigns",
        "Campaigns",
        [
            Hit(c.name, _url("admin:campaigns_campaign_change", c.pk), c.template, c.state)
            for c in rows
        ],
    )
    return kind, rows


def _audit(q: str, found: list) -> Kind:
    """Entries whose target is one of the objects found, or whose target id is `q` for a known
    target type: one query on the (target_type, target_id, at, id) index."""
    from audit.links import audit_entries_url
    from audit.models import AuditEntry

    pairs = {(obj._meta.label_lower, str(obj.pk)) for obj in found}
    if INCIDENT_ID.match(q):
        ident = INCIDENT_ID.match(q).group(1)
        for target_type in (
            "incidents.incident",
            "campaigns.campaign",
            "vouchers.voucher",
            "vouchers.station",
        ):
            pairs.add((target_type, ident))
    kind = Kind("audit", "Audit entries")
    if not pairs:
        return kind
    where = Q()
    for target_type, target_id in sorted(pairs):
        where |= Q(target_type=target_type, target_id=target_id)
    rows = AuditEntry.objects.filter(where).order_by("-at", "-id")[:LIMIT]
    kind.hits = [
        Hit(
            f"{e.action} — {e.target_repr or e.target_type + ' ' + e.target_id}",
            _url("admin:audit_auditentry_entry", e.pk)
            or audit_entries_url(target_type=e.target_type, target_id=e.target_id),
            f"by {e.actor_name}",
            at=e.at,
        )
        for e in rows
    ]
    if len(pairs) == 1:
        target_type, target_id = next(iter(pairs))
        kind.more_url = audit_entries_url(target_type=target_type, target_id=target_id)
    return kind


def search_everything(*, q: str, user) -> list[Kind]:
    """What `user` may see that matches `q`, by kind (kinds they may not read are left out)."""
    q = " ".join((q or "").split())[:MAX_QUERY]
    if not q:
        return []
    kinds: list[Kind] = []
    found: list = []  # objects this person may see: their audit entries are looked up too
    if user.has_perm("incidents.view_incident"):
        kinds.append(_incidents(q))
    if user.has_perm("vouchers.view_voucher"):
        kind, rows = _vouchers(q)
        kinds.append(kind)
        found += rows
    if user.has_perm("vouchers.view_station"):
        kind, rows = _stations(q)
        kinds.append(kind)
        found += rows
    if user.has_perm("campaigns.view_campaign"):
        kind, rows = _campaigns(q)
        kinds.append(kind)
        found += rows
    if user.has_perm("audit.view_auditentry"):
        kinds.append(_audit(q, found))
    return kinds
