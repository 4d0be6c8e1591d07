"""Delivery, open and click rates, as the dashboard will show them.

Rates are over messages the provider accepted (sent_at set). "Opened" counts an email whose
tracking image a person fetched; an email opened only by a machine (a privacy proxy, a
scanner) is counted apart and never as read. Clicks are details-link visits, people apart
from link previews and scanners, over the messages that carried a link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import OptOut
from victim_notify.messages.models import Engagement, MessageKind, Notification, Status
from victim_notify.replies.models import InboundMessage


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _engaged(kind: str, machine: bool) -> Exists:
    return Exists(
        Engagement.objects.filter(notification=OuterRef("pk"), kind=kind, machine=machine)
    )


def _engagement(messages: QuerySet[Notification], kind: str) -> dict[str, Any]:
    marked = messages.annotate(by_person=_engaged(kind, False), by_machine=_engaged(kind, True))
    people = marked.filter(by_person=True).count()
    machines_only = marked.filter(by_person=False, by_machine=True).count()
    whole = messages.count()
    return {
        "messages": whole,
        "by_people": people,
        "by_machines_only": machines_only,
        "human_rate": _ratio(people, whole),
        "machine_only_rate": _ratio(machines_only, whole),
    }


def rates(agency: Agency, since: dt.datetime) -> dict[str, Any]:
    notices = Notification.objects.filter(
        agency=agency, kind=MessageKind.REPORT_FILED, created_at__gte=since
    )
    result: dict[str, Any] = {"agency": agency.slug, "since": since.isoformat()}
    for channel, label in (("sms", "texts"), ("email", "emails")):
        mine = notices.filter(channel=channel)
        by_status = dict(mine.values_list("status").annotate(n=Count("pk")))
        accepted = mine.filter(sent_at__isnull=False)
        delivered = by_status.get(Status.DELIVERED, 0)
        result[label] = {
            "decided": mine.count(),
            "accepted_by_provider": accepted.count(),
            "delivered": delivered,
            "failed_permanent": by_status.get(Status.FAILED_PERMANENT, 0),
            "failed_temporary": by_status.get(Status.FAILED_TEMPORARY, 0),
            "waiting": by_status.get(Status.PENDING, 0) + by_status.get(Status.SENDING, 0),
            "outcome_unknown": by_status.get(Status.OUTCOME_UNKNOWN, 0),
            "expired_or_cancelled": by_status.get(Status.EXPIRED, 0)
            + by_status.get(Status.CANCELLED, 0),
            "delivery_rate": _ratio(delivered, accepted.count()),
            "failure_rate": _ratio(by_status.get(Status.FAILED_PERMANENT, 0), accepted.count()),
        }
    accepted_emails = notices.filter(channel="email", sent_at__isnull=False)
    result["emails"]["opens"] = _engagement(accepted_emails, "open")
    with_link = notices.filter(sent_at__isnull=False).filter(
        Q(channel="email") | Q(body__contains="/d/")
    )
    result["details_link_clicks"] = _engagement(with_link, "click")
    replies = InboundMessage.objects.filter(agency=agency, received_at__gte=since)
    result["replies"] = {
        "received": replies.count(),
        "urgent": replies.filter(urgent=True).count(),
        "urgent_not_handled": replies.filter(urgent=True, handled_at=None).count(),
    }
    result["opt_outs"] = {
        "recorded": OptOut.objects.filter(agency=agency, created_at__gte=since).count(),
        "in_force": OptOut.objects.filter(agency=agency, revoked_at=None).count(),
    }
    return result
