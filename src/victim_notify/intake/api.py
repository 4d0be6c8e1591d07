"""POST /api/v1/reports: an RMS pushes one report (a JSON object) or a batch (a JSON array of
up to 1,000). Each record is validated on its own, so one bad record never loses the others."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from victim_notify.api import json_batch, problem
from victim_notify.intake.models import Source
from victim_notify.intake.schema import ReportIn
from victim_notify.intake.store import IncomingRecord, ingest

router = Router(tags=["reports"])


class FieldProblem(Schema):
    pointer: str
    message: str


class RecordOutcome(Schema):
    index: int
    report_number: str | None
    outcome: str
    warnings: list[FieldProblem] = []
    errors: list[FieldProblem] = []
    quarantine_id: int | None = None


class BatchSummary(Schema):
    received: int
    accepted: int
    unchanged: int
    amended: int
    quarantined: int
    notifications_queued: int
    results: list[RecordOutcome]


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str | None = None


_REPORT_SCHEMA = ReportIn.model_json_schema(ref_template="#/components/schemas/{model}")
_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/ReportIn"},
                        {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/ReportIn"},
                            "maxItems": settings.INTAKE_BATCH_LIMIT,
                            "minItems": 1,
                        },
                    ]
                },
            }
        },
    }
}


def add_report_schemas(schema: dict[str, Any]) -> None:
    """Put ReportIn and the models it uses into the OpenAPI components."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    definitions = dict(_REPORT_SCHEMA.get("$defs", {}))
    report = {k: v for k, v in _REPORT_SCHEMA.items() if k != "$defs"}
    components.update(definitions)
    components["ReportIn"] = report


@router.post(
    "/reports",
    summary="Push one report or a batch of reports",
    response={200: BatchSummary, 201: BatchSummary, 400: Problem, 413: Problem, 422: Problem},
    openapi_extra=_REQUEST_BODY,
)
def post_reports(request: HttpRequest) -> HttpResponse:
    """One JSON object is one report; a JSON array is a batch of up to 1,000.

    Every record is validated on its own: good records are stored and decided even when others
    in the same batch are bad. A single report with errors answers 422 with a problem document
    pointing at each bad field; a batch answers 200 with one result per record. Records with
    errors are kept in quarantine for staff to fix and replay.
    """
    token = request.auth  # type: ignore[attr-defined]
    body = json_batch(request, "report")
    if isinstance(body, HttpResponse):
        return body
    records, single = body
    summary = ingest(
        token.agency,
        [IncomingRecord.from_object(i, record) for i, record in enumerate(records)],
        source=Source.API,
        source_name=f"token {token.key_id}",
    )
    results = sorted(summary.results, key=lambda r: r.index)
    if single and results[0].outcome == "quarantined":
        result = results[0]
        return problem(
            422,
            "Report not accepted",
            "The report was kept in quarantine; fix the fields below and send it again.",
            kind="invalid-report",
            report_number=result.report_number,
            quarantine_id=result.quarantine_id,
            errors=[{"pointer": e["pointer"], "detail": e["message"]} for e in result.errors],
        )
    payload = {
        "received": len(results),
        "accepted": summary.count("accepted"),
        "unchanged": summary.count("unchanged"),
        "amended": summary.count("amended"),
        "quarantined": summary.count("quarantined"),
        "notifications_queued": summary.notifications_queued,
        "results": [
            {
                "index": r.index,
                "report_number": r.report_number,
                "outcome": r.outcome,
                "warnings": r.warnings,
                "errors": r.errors,
                "quarantine_id": r.quarantine_id,
            }
            for r in results
        ],
    }
    created = summary.count("accepted") + summary.count("amended") > 0
    return JsonResponse(
        payload, status=201 if created else 200, json_dumps_params={"ensure_ascii": False}
    )
