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

from victim_notify.agencies.models import Agency, Division
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


def rates(
    agency: Agency,
    since: dt.datetime,
    until: dt.datetime | None = None,
    division: Division | None = None,
) -> dict[str, Any]:
    """Figures for what happened from `since` (and before `until`, when given), about reports
    of one division when `division` is given. An opt-out belongs to a contact, not a report:
    with a division it counts when the contact was written to about a report of that division.
    """
    notices = _window(
        Notification.objects.filter(agency=agency, kind=MessageKind.REPORT_FILED),
        "created_at",
        since,
        until,
    )
    if division is not None:
        notices = notices.filter(report__division=division)
    result: dict[str, Any] = {"agency": agency.slug, "since": since.isoformat()}
    if until is not None:
        result["until"] = until.isoformat()
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
        Q(channel="email") | Q(has_details_link=True)
    )
    result["details_link_clicks"] = _engagement(with_link, "click")
    replies = _window(InboundMessage.objects.filter(agency=agency), "received_at", since, until)
    if division is not None:
        replies = replies.filter(report__division=division)
    result["replies"] = {
        "received": replies.count(),
        "urgent": replies.filter(urgent=True).count(),
        "urgent_not_handled": replies.filter(urgent=True, handled_at=None).count(),
    }
    opt_outs = OptOut.objects.filter(agency=agency)
    if division is not None:
        opt_outs = opt_outs.filter(
            Exists(
                Notification.objects.filter(
                    agency=agency, contact=OuterRef("contact"), report__division=division
                )
            )
        )
    result["opt_outs"] = {
        "recorded": _window(opt_outs, "created_at", since, until).count(),
        "in_force": opt_outs.filter(revoked_at=None).count(),
    }
    return result


def _window(
    rows: QuerySet[Any], field: str, since: dt.datetime, until: dt.datetime | None
) -> QuerySet[Any]:
    rows = rows.filter(**{f"{field}__gte": since})
    return rows if until is None else rows.filter(**{f"{field}__lt": until})
