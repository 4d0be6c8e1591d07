"""/dev/outbox: every text and email a development installation sent, as the victim would see
it, newest first, with the decision that sent it; what is waiting; and who was not written to
and why. Staff only; enabled by VN_DEV_OUTBOX."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import user_passes_test
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from victim_notify.contacts.normalise import display_phone
from victim_notify.messages.models import Notification, Status
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision


def _admin_signed_in(user: object) -> bool:
    """As for the admin: an active admin-site user who gave the second factor too."""
    return bool(
        getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and getattr(user, "is_verified", lambda: False)()
    )


@user_passes_test(_admin_signed_in, login_url="admin:login")
def outbox(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("show")
    if view == "not_sent":
        return _not_sent(request)
    if view == "replies":
        replies = InboundMessage.objects.select_related("report", "contact").prefetch_related(
            "responses"
        )
        reply_page = Paginator(replies.order_by("-received_at"), 50).get_page(
            request.GET.get("page")
        )
        return render(request, "providers/replies.html", {"page": reply_page})
    if view == "waiting":
        waiting = Notification.objects.filter(
            status__in=[Status.PENDING, Status.SENDING]
        ).select_related("report", "party", "agency")
        waiting_page = Paginator(waiting.order_by("not_before"), 50).get_page(
            request.GET.get("page")
        )
        return render(request, "providers/waiting.html", {"page": waiting_page})

    page = Paginator(DevOutboxMessage.objects.order_by("-received_at", "-pk"), 25).get_page(
        request.GET.get("page")
    )
    notes: dict[uuid.UUID | None, Notification] = {
        n.pk: n
        for n in Notification.objects.filter(
            pk__in=[m.notification_id for m in page if m.notification_id]
        ).select_related("decision", "report", "party", "agency")
    }
    entries = []
    for message in page:
        note = notes.get(message.notification_id)
        recipient = message.recipient
        entries.append(
            {
                "message": message,
                "note": note,
                "decision": note.decision if note else None,
                "recipient": display_phone(recipient) if message.channel == "sms" else recipient,
                "sender": display_phone(message.sender)
                if message.channel == "sms"
                else message.sender,
            }
        )
    return render(request, "providers/outbox.html", {"page": page, "entries": entries})


def _not_sent(request: HttpRequest) -> HttpResponse:
    # People not written to at all; a missing email beside a text that went is not news.
    reached = Decision.objects.filter(
        party=OuterRef("party"), report_version=OuterRef("report_version"), send=True
    )
    decisions = (
        Decision.objects.filter(send=False)
        .exclude(Q(channel__gt="") & Exists(reached))
        .select_related("report", "party")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    return render(request, "providers/not_sent.html", {"page": page})
