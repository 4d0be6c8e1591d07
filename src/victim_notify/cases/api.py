"""POST /api/v1/events: the RMS says what happened to a case after the report."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from victim_notify.api import json_batch, refused_one
from victim_notify.cases.intake import EventIn, take_in
from victim_notify.intake.api import Problem

router = Router(tags=["case events"])


class EventSummary(Schema):
    received: int
    accepted: int
    unchanged: int
    notifications_queued: int
    rejected: list[dict[str, object]]


_SCHEMA = EventIn.model_json_schema()
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _SCHEMA,
                        {"type": "array", "items": _SCHEMA, "minItems": 1},
                    ]
                }
            }
        },
    }
}


@router.post(
    "/events",
    summary="Push one case event or a batch",
    response={200: EventSummary, 400: Problem, 413: Problem, 422: Problem},
    openapi_extra=_BODY,
)
def post_events(request: HttpRequest) -> HttpResponse:
    """A detective assigned, an arrest, a warrant, a referral to the prosecutor, an initial
    appearance, a case suspended or closed, property recovered. Each event is told to the
    victims the report's rules allow and starts its legal deadline; the same event again
    (its event_id, or its kind and time) changes nothing."""
    agency = request.auth.agency  # type: ignore[attr-defined]
    body = json_batch(request, "event")
    if isinstance(body, HttpResponse):
        return body
    records, single = body
    summary = take_in(agency, records)
    if single and summary.rejected:
        return refused_one("Event not taken in", "invalid-event", summary.rejected[0]["errors"])
    return JsonResponse(summary.as_dict(), json_dumps_params={"ensure_ascii": False})
