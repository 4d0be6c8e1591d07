"""The HTTP API (django-ninja): one instance, routers from each app, RFC 9457 errors.

Every error is `application/problem+json` with `type`, `title`, `status`, `detail` and, for bad
input, `errors`: a list of `{"pointer": "/parties/0/phone", "detail": "..."}` (RFC 6901 pointers).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from victim_notify.agencies.models import ApiToken

PROBLEM_TYPES = "https://victim-notify.readthedocs.io/problems/"


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    kind: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES + kind if kind != "about:blank" else kind,
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_batch(request: HttpRequest, what: str) -> tuple[list[Any], bool] | HttpResponse:
    """A body of one JSON object or an array of up to INTAKE_BATCH_LIMIT of them, as (the
    items, whether it was a single object); otherwise the problem to answer. `what` names an
    item in the messages ("report", "event", "EIDO")."""
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
    items = [body] if single else body
    if not isinstance(items, list):
        detail = f"Send one {what} object or an array of {what} objects."
        return problem(400, "Wrong body", detail, kind="wrong-body")
    if not items:
        return problem(422, "Empty batch", f"The array holds no {what}s.", kind="empty-batch")
    if len(items) > settings.INTAKE_BATCH_LIMIT:
        return problem(
            413,
            "Batch too large",
            f"At most {settings.INTAKE_BATCH_LIMIT} {what}s per request; got {len(items)}.",
            kind="batch-too-large",
        )
    return items, single


def refused_one(title: str, kind: str, errors: list[dict[str, str]], **extra: Any) -> HttpResponse:
    """422 for a single item that was not taken in, pointing at each bad field."""
    return problem(
        422,
        title,
        "Fix the fields below and send it again.",
        kind=kind,
        errors=[{"pointer": e["pointer"], "detail": e["message"]} for e in errors],
        **extra,
    )


class AgencyToken(HttpBearer):
    """`Authorization: Bearer vn_<id>_<secret>`, a per-agency token kept only as a hash."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.authenticate(token)
        if found is not None:
            now = timezone.now()
            if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
                ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        return found


class VictimNotifyAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        from victim_notify.intake.api import add_report_schemas

        schema = super().get_openapi_schema(*args, **kwargs)
        add_report_schemas(schema)
        describe_problems(schema)
        return schema


_PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}
# What any operation may answer besides its own: no or a wrong token, and over a rate limit.
_COMMON_PROBLEMS = {
    "401": "Not authenticated: send a valid agency API token as a Bearer token.",
    "422": "The request does not match this description.",
    "429": "Too many requests: wait the seconds in Retry-After.",
}


def describe_problems(schema: dict[str, Any]) -> None:
    """Every error answer is described as what it is, application/problem+json (django-ninja
    would say application/json), and every operation lists the errors any call can meet."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = _PROBLEM_SCHEMA
    problem_content = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, description in _COMMON_PROBLEMS.items():
                responses.setdefault(code, {"description": description})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": "The body is not JSON."})
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                responses.setdefault("404", {"description": "No such object for this agency."})
            for code, response in responses.items():
                if str(code).startswith(("4", "5")):
                    response["content"] = problem_content


api = VictimNotifyAPI(
    title="Victim Notify API",
    version="1",
    description="Push approved reports from a records system. See /api/v1/docs.",
    urls_namespace="api-v1",
    auth=AgencyToken(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(
        401,
        "Not authenticated",
        "Send a valid agency API token as a Bearer token.",
        headers={"WWW-Authenticate": 'Bearer realm="victim-notify"'},
    )


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "pointer": "/" + "/".join(str(p) for p in e.get("loc", ())[1:]),
            "detail": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    return problem(422, "Invalid request", kind="invalid-request", errors=errors)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(404, "Not found", "No such object for this agency.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(exc.status_code, str(exc))


def _register_routers() -> None:
    from victim_notify.calls.api import router as calls_router
    from victim_notify.cases.api import router as cases_router
    from victim_notify.intake.api import router as intake_router
    from victim_notify.replies.api import router as replies_router

    api.add_router("/", intake_router)
    api.add_router("/", replies_router)
    api.add_router("/", calls_router)
    api.add_router("/", cases_router)


_register_routers()
