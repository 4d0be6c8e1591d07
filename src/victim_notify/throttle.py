"""Rate limits on what anyone on the internet can reach: sign-in, the victims' pages, the API and
the providers' webhooks. Over a limit, the answer is 429 with Retry-After (problem+json on the
API) and the view does not run.

Counts live in the database (providers/rate.py: one atomic UPDATE per count), so every worker
process on every host shares them with no other service. django-ratelimit was the alternative,
but it needs a cache with atomic increment (Redis, Memcached); on Django's database cache it
undercounts under concurrency. A limit keys on the client's address as the audit trail sees it
(VN_TRUSTED_PROXIES), stored only as a keyed hash.

What is counted is chosen so that legitimate traffic never meets a limit:
- webhooks: only requests that fail the signature check. Genuine callbacks come fast and from a
  few provider addresses, and their number is bounded by what we send; refusing one would lose
  a delivery receipt or a STOP.
- sign-in (staff and admin, password and code steps): only failed attempts, so a station of
  colleagues behind one address can all sign in; django-axes still locks a user name after 5.
- the victims' pages (details, unsubscribe, survey): every request, and links that are not
  valid more strictly.
- the API: every request (generously: an RMS pushes steadily) and failed authentication.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from victim_notify.accounts.audit import client_address
from victim_notify.environment import Limit
from victim_notify.providers import rate


@dataclass(frozen=True)
class Rule:
    scope: str  # the name of the setting in settings.RATE_LIMITS
    # None: every request counts, before the view runs. Otherwise only the responses this says
    # are failures count, and once over the limit every request is refused until the window ends.
    failure: Callable[[HttpResponse], bool] | None = None
    methods: frozenset[str] | None = None


def _not_redirected(response: HttpResponse) -> bool:
    return not 300 <= response.status_code < 400


def _refused(response: HttpResponse) -> bool:
    return response.status_code in (401, 403)


def _not_found(response: HttpResponse) -> bool:
    return response.status_code in (404, 410)


_POST = frozenset({"POST"})
_VICTIM_PAGES = (Rule("public"), Rule("public_invalid", failure=_not_found))
# Path prefixes, longest first within each family. /o/ (the email-open pixel) is left out on
# purpose: mail providers fetch images through a few proxy addresses for all their users.
RULES: tuple[tuple[str, tuple[Rule, ...]], ...] = (
    ("/hooks/", (Rule("webhook_invalid", failure=_refused),)),
    ("/staff/login", (Rule("login_failed", failure=_not_redirected, methods=_POST),)),
    ("/staff/mfa", (Rule("login_failed", failure=_not_redirected, methods=_POST),)),
    ("/admin/login/", (Rule("login_failed", failure=_not_redirected, methods=_POST),)),
    # The API's description and its docs page: static documents, not calls.
    ("/api/v1/openapi.json", ()),
    ("/api/v1/docs", ()),
    ("/api/", (Rule("api"), Rule("api_unauthenticated", failure=_refused))),
    ("/d/", _VICTIM_PAGES),
    ("/u/", _VICTIM_PAGES),
    ("/s/", _VICTIM_PAGES),
    # The case page: every request, and each try at a report number or a code.
    ("/case/", (*_VICTIM_PAGES, Rule("case_lookup", methods=_POST))),
)


def rules_for(request: HttpRequest) -> list[tuple[Rule, Limit]]:
    found: list[tuple[Rule, Limit]] = []
    for prefix, rules in RULES:
        if request.path.startswith(prefix):
            for rule in rules:
                limit = settings.RATE_LIMITS.get(rule.scope)
                if limit is not None and (rule.methods is None or request.method in rule.methods):
                    found.append((rule, limit))
            break
    return found


def _key(scope: str, request: HttpRequest) -> str:
    # The address is kept only as a keyed hash: the table holds no client addresses.
    address = client_address(request) or "unknown"
    secret = hashlib.sha256(b"victim-notify rate limit " + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(secret, f"{scope} {address}".encode(), hashlib.sha256).hexdigest()
    return f"web:{digest[:28]}"  # 112 bits, in the table's 32 characters


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    retry_after = max(1, retry_after)
    if request.path.startswith("/api/"):
        from victim_notify.api import problem

        response = problem(
            429,
            "Too many requests",
            f"Slow down: try again in {retry_after} seconds.",
            kind="too-many-requests",
        )
    else:
        response = HttpResponse(
            "Too many requests. Please wait a little and try again.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class ThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rules = rules_for(request)
        if not rules:
            return self.get_response(request)
        for rule, limit in rules:
            key = _key(rule.scope, request)
            if rule.failure is None:
                used, ends = rate.hit(key, limit.seconds)
            else:
                used, ends = rate.count(key, limit.seconds)
                used += 1  # this request, were it to fail
            if used > limit.count:
                return too_many(request, math.ceil(ends - time.time()))
        response = self.get_response(request)
        for rule, limit in rules:
            if rule.failure is not None and rule.failure(response):
                rate.hit(_key(rule.scope, request), limit.seconds)
        return response
