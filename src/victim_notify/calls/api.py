"""POST /api/v1/calls: CAD pushes what it knows of a call for service (an EIDO, or a batch)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Router, Schema

from victim_notify.api import json_batch, refused_one
from victim_notify.calls.intake import take_in
from victim_notify.calls.snapshots import from_eido
from victim_notify.intake.api import Problem

router = Router(tags=["calls"])


class CallSummary(Schema):
    received: int
    new: int
    updated: int
    unchanged: int
    stale: int
    texts_queued: int
    rejected: list[dict[str, object]]


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "description": "An EIDO (NENA-STA-021) object, or an array of them; see "
                    "docs/intake.md for the members read.",
                    "oneOf": [
                        {"type": "object"},
                        {"type": "array", "items": {"type": "object"}, "minItems": 1},
                    ],
                }
            }
        },
    }
}


@router.post(
    "/calls",
    summary="Push the state of one call for service or a batch",
    response={200: CallSummary, 400: Problem, 413: Problem, 422: Problem},
    openapi_extra=_BODY,
)
def post_calls(request: HttpRequest) -> HttpResponse:
    """Each EIDO is a snapshot of its call: the times it gives are filled in, the ones it
    leaves out stay as they were, and a snapshot older than the last one is ignored. A bad
    one is refused with its fields named (a single one answers 422); the rest are taken in."""
    agency = request.auth.agency  # type: ignore[attr-defined]
    body = json_batch(request, "EIDO")
    if isinstance(body, HttpResponse):
        return body
    documents, single = body
    now = timezone.now()
    readings = [from_eido(i, d, agency.zone, now) for i, d in enumerate(documents)]
    summary = take_in(agency, readings, now)
    if single and summary.rejected:
        return refused_one("Call not taken in", "invalid-call", summary.rejected[0]["errors"])
    return JsonResponse(summary.as_dict(), json_dumps_params={"ensure_ascii": False})
