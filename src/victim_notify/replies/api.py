"""The replies inbox over the API: urgent first, then unhandled, newest first; and marking one
handled. Scoped to the agency whose token is used."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import F
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from victim_notify.accounts.audit import record as audit
from victim_notify.replies import handling
from victim_notify.replies.models import InboundMessage

router = Router(tags=["replies"])


class ReplyOut(Schema):
    id: str
    received_at: dt.datetime
    channel: str
    intent: str
    urgent: bool
    urgent_terms: list[str]
    body: str
    report_number: str | None
    handled_at: dt.datetime | None
    handled_by: str
    handled_note: str


class HandledIn(Schema):
    by: str = Field(min_length=1, max_length=150, description="Who handled it.")
    note: str = Field("", max_length=5000)


def _out(reply: InboundMessage) -> ReplyOut:
    return ReplyOut(
        id=str(reply.pk),
        received_at=reply.received_at,
        channel=reply.channel,
        intent=reply.intent,
        urgent=reply.urgent,
        urgent_terms=reply.urgent_terms,
        body=reply.body,
        report_number=reply.report.report_number if reply.report else None,
        handled_at=reply.handled_at,
        handled_by=reply.handled_by_name,
        handled_note=reply.handled_note,
    )


@router.get("/replies", response=list[ReplyOut], summary="The replies inbox")
def list_replies(
    request: HttpRequest, urgent: bool | None = None, handled: bool | None = None, limit: int = 100
) -> list[ReplyOut]:
    replies = InboundMessage.objects.filter(agency=request.auth.agency).select_related("report")  # type: ignore[attr-defined]
    if urgent is not None:
        replies = replies.filter(urgent=urgent)
    if handled is not None:
        replies = replies.filter(handled_at__isnull=not handled)
    ordered = replies.order_by("-urgent", F("handled_at").asc(nulls_first=True), "-received_at")
    return [_out(r) for r in ordered[: max(1, min(limit, 500))]]


@router.post("/replies/{reply_id}/handled", response=ReplyOut, summary="Mark a reply handled")
def mark_handled(request: HttpRequest, reply_id: uuid.UUID, payload: HandledIn) -> ReplyOut:
    token = request.auth  # type: ignore[attr-defined]
    reply = get_object_or_404(InboundMessage, pk=reply_id, agency=token.agency)
    if handling.mark_handled(reply, by=payload.by, note=payload.note):
        audit("reply.handled", actor_label=f"api:{token.key_id}", agency=token.agency, target=reply)
    return _out(reply)
