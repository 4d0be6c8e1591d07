"""POST /api/v1/events: the RMS says what happened to a case after the report."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from victim_notify.api import problem
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
    try:
        body = json.loads(request.body or b"")
    except (ValueError, RecursionError) as exc:
        return problem(400, "Body is not JSON", str(exc) or type(exc).__name__, kind="not-json")
    single = isinstance(body, dict)
    records = [body] if single else body
    if not isinstance(records, list) or not records:
        return problem(400, "Wrong body", "Send an event object or a non-empty array of them.")
    if len(records) > settings.INTAKE_BATCH_LIMIT:
        limit = settings.INTAKE_BATCH_LIMIT
        return problem(413, "Batch too large", f"At most {limit} events per request.")
    summary = take_in(agency, records)
    if single and summary.rejected:
        errors = summary.rejected[0]["errors"]
        return problem(
            422,
            "Event not taken in",
            "Fix the fields below and send it again.",
            kind="invalid-event",
            errors=[{"pointer": e["pointer"], "detail": e["message"]} for e in errors],
        )
    return JsonResponse(summary.as_dict(), json_dumps_params={"ensure_ascii": False})
