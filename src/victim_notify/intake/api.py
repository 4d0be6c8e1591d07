"""POST /api/v1/reports: an RMS pushes one report (a JSON object) or a batch (a JSON array of
up to 1,000). Each record is validated on its own, so one bad record never loses the others."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

from victim_notify.api import problem
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
    try:
        data = request.body
    except RequestDataTooBig:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"At most {limit} bytes per request; send smaller batches."
        return problem(413, "Body too large", detail, kind="body-too-large")
    try:
        body = json.loads(data or b"")
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad JSON, bad UTF-8 and integers too long to convert; deep nesting
        # raises RecursionError. Each is the client's mistake, not a server error.
        return problem(400, "Body is not JSON", str(exc) or type(exc).__name__, kind="not-json")
    single = isinstance(body, dict)
    records = [body] if single else body
    if not isinstance(records, list):
        return problem(
            400,
            "Wrong body",
            "Send a report object or an array of report objects.",
            kind="wrong-body",
        )
    if not records:
        return problem(422, "Empty batch", "The array holds no reports.", kind="empty-batch")
    if len(records) > settings.INTAKE_BATCH_LIMIT:
        return problem(
            413,
            "Batch too large",
            f"At most {settings.INTAKE_BATCH_LIMIT} reports per request; got {len(records)}.",
            kind="batch-too-large",
        )

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
