"""A local fake of Twilio's Messages API (2010-04-01) that speaks the real wire format.

The official `twilio` SDK talks to it through `LocalTwilioHttpClient`, which rewrites
`https://api.twilio.com` to the fake's base URL. Run it in a thread of the test process::

    with FakeTwilio(account_sid, auth_token) as fake:
        http = LocalTwilioHttpClient(fake.base_url, timeout=10)
        client = twilio.rest.Client(account_sid, auth_token, http_client=http)
        client.messages.create(to="+15005550006", from_="+15005550001", body="hi")
        assert len(fake.messages) == 1

or in its own process (driven over HTTP through `/__control`, `/__received`, `/__requests`)::

    python -m tests.fakes.twilio_api --port 8765 --account-sid AC... --auth-token ...

Message lifecycle: a create answers 201 with status "queued" (or "accepted" when sent through a
MessagingServiceSid) and date_sent null, exactly as Twilio does. With `auto_sent=True` (the
default) the stored message then moves straight to "sent" with date_sent = date_created, so a
later fetch or list shows it sent and the DateSent filters find it. With `auto_sent=False`
messages stay as created (date_sent null, never matched by a DateSent filter) until the test
calls `update_status`. Status callbacks are recorded, never delivered.

The server is standard library only: socketserver's ThreadingTCPServer (one thread per
keep-alive connection) with a lean HTTP/1.1 loop, tuned for throughput: TCP_NODELAY on every
accepted socket and each response written as one bytes object in a single sendall (a head and
a body in separate small writes stall each request on a delayed ACK, ~40 ms).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"
API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
_MESSAGE_PATH = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json")
# E.164: a plus, a non-zero country code digit, 8 to 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{7,14}")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# GSM 03.38 default alphabet (without ESC) and the extension table, whose characters take two
# septets each. Escapes keep look-alike Greek capitals unambiguous in the source.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039eÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("\f^{}\\[~]|€")


def num_segments(body: str) -> int:
    """SMS segments Twilio bills for `body`: GSM-7 160/153 septets, else UCS-2 70/67 units."""
    septets = 0
    for char in body:
        if char in _GSM7_BASIC:
            septets += 1
        elif char in _GSM7_EXTENDED:
            septets += 2
        else:
            break
    else:
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def rfc2822(moment: datetime) -> str:
    """Twilio's date format, e.g. 'Thu, 24 Aug 2023 05:01:45 +0000' (locale independent)."""
    moment = moment.astimezone(UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000"
    )


def twilio_error(code: int, message: str, status: int, **extra: Any) -> dict[str, Any]:
    """Twilio's (legacy, non RFC-9457) error body, which the SDK turns into TwilioRestException."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
        **extra,
    }


@dataclass(slots=True)
class Message:
    """One accepted outbound message, as the fake stores it."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    num_segments: int
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The Message resource JSON exactly as Twilio returns it."""
        uri = self.uri
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent) if self.date_sent else None,
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            # Twilio reports 0 until a Messaging Service has picked a sender.
            "num_segments": "0" if self.status == "accepted" else str(self.num_segments),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {
                "media": uri[: -len(".json")] + "/Media.json",
                "feedback": uri[: -len(".json")] + "/Feedback.json",
            },
            "to": self.to,
            "uri": uri,
        }

    def summary(self) -> dict[str, Any]:
        """The short form served by GET /__received."""
        return {
            "sid": self.sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "status_callback": self.status_callback,
            "messaging_service_sid": self.messaging_service_sid,
            "date_created": rfc2822(self.date_created),
            "created_at": self.date_created.timestamp(),
        }


@dataclass(slots=True)
class RecordedRequest:
    """One HTTP request to the API (control endpoints are not recorded)."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    time: float
    status: int | None = None  # the status answered; None while in flight or if dropped


@dataclass(slots=True)
class _Reply:
    status: int
    payload: Any
    headers: list[tuple[str, str]] = field(default_factory=list)


class _DropConnection(Exception):
    """Close the connection without answering (the fake was stopped or reset under a hang)."""


class FakeTwilio:
    """The fake API: state, fault controls and the HTTP server that serves them.

    All public methods are thread-safe. `messages` and `requests` return snapshots (lists); the
    `Message` objects in them are the live ones.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        auto_sent: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.auto_sent = auto_sent
        # Tests may add to these directly, or replace them through /__control.
        self.invalid_numbers: set[str] = set()
        self.unsubscribed_numbers: set[str] = set()

        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._messages: list[Message] = []
        self._by_sid: dict[str, Message] = {}
        self._requests: list[RecordedRequest] = []
        self._fail_left = 0
        self._fail_status = 500
        self._retry_after = 1
        self._hang_left = 0
        self._hang_seconds = 0.0
        self._wake = threading.Event()  # set to cut short the current hangs
        self._holding = False
        self._hold_after = 0  # sends still answered at once before holding starts
        self._release_event = threading.Event()  # set to let the currently held replies go
        self._held = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeTwilio:
        """Listen (again) on host:port; the first start picks a free port when port is 0."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-twilio:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection, as an outage would.

        Requests in flight get no answer: hangs end at once and held replies are let go into
        their closed sockets. The recorded state is kept; `start()` resumes on the same port.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        with self._lock:
            self._wake.set()
            self._wake = threading.Event()
            self._release_event.set()
            self._release_event = threading.Event()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def outage(self, seconds: float) -> None:
        """Stop now and start again on the same port after `seconds`, in the background."""
        self.stop()

        def restart() -> None:
            time.sleep(seconds)
            self.start()

        threading.Thread(target=restart, name="fake-twilio-outage", daemon=True).start()

    # -- fault controls ------------------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 500, retry_after: int = 1) -> None:
        """Answer the next `count` sends with `status` (429 carries Retry-After: retry_after)."""
        with self._lock:
            self._fail_left = count
            self._fail_status = status
            self._retry_after = retry_after

    def hang_next(self, count: int = 1, seconds: float = 5.0) -> None:
        """Make the next `count` sends wait `seconds` before being handled (then accepted as
        usual, so a client that timed out and retries makes a duplicate, as with Twilio)."""
        with self._lock:
            self._hang_left = count
            self._hang_seconds = seconds

    def hold(self, after: int = 0) -> None:
        """From now on accept and record each send, then keep its reply until `release()`;
        with `after`, the next `after` sends are still answered at once."""
        with self._lock:
            self._holding = True
            self._hold_after = after

    def release(self) -> None:
        """Send every held reply and stop holding."""
        with self._lock:
            self._holding = False
            self._release_event.set()
            self._release_event = threading.Event()
            self._held = 0
            self._changed.notify_all()

    @property
    def held(self) -> int:
        """How many replies are being held right now."""
        with self._lock:
            return self._held

    def wait_for_held(self, count: int = 1, timeout: float = 5.0) -> bool:
        """Block until at least `count` replies are held; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._held >= count, timeout)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least `count` messages were accepted; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._messages) >= count, timeout)

    def update_status(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> Message:
        """Move a message along its lifecycle (e.g. "delivered", or "undelivered" with 30006)."""
        with self._lock:
            message = self._by_sid[sid]
            now = datetime.now(UTC)
            message.status = status
            message.date_updated = now
            message.error_code = error_code
            message.error_message = error_message
            if status in {"sent", "delivered", "undelivered", "read"} and not message.date_sent:
                message.date_sent = now
            return message

    def reset(self) -> None:
        """Forget messages and requests, clear all faults and number sets, let held replies go."""
        with self._lock:
            self._messages.clear()
            self._by_sid.clear()
            self._requests.clear()
            self._fail_left = self._hang_left = 0
            self._wake.set()
            self._wake = threading.Event()
            self._holding = False
            self._release_event.set()
            self._release_event = threading.Event()
            self._held = 0
            self._changed.notify_all()
        self.invalid_numbers.clear()
        self.unsubscribed_numbers.clear()

    # -- what was received ---------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Accepted messages, oldest first."""
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every API request received, oldest first (including rejected ones)."""
        with self._lock:
            return list(self._requests)

    def messages_containing(self, text: str) -> list[Message]:
        """Accepted messages whose body contains `text` (e.g. a notification's unique id)."""
        with self._lock:
            return [m for m in self._messages if text in m.body]

    def requests_containing(self, text: str) -> list[RecordedRequest]:
        """Send requests (accepted or not) whose Body contains `text`."""
        with self._lock:
            return [r for r in self._requests if text in r.form.get("Body", "")]

    def request_counts(self) -> dict[str, int]:
        """Number of requests by "METHOD path"."""
        with self._lock:
            return dict(Counter(f"{r.method} {r.path}" for r in self._requests))

    # -- request handling (called on the server's connection threads) --------------------------

    def _handle(self, method: str, target: str, authorization: str | None, body: bytes) -> _Reply:
        split = urlsplit(target)
        path = split.path
        query = _parse_form(split.query) if split.query else {}
        if path.startswith("/__"):
            return self._control(method, path, body)

        form: dict[str, str] = {}
        if body:
            form = _parse_form(body.decode("utf-8", "replace"))
        record = RecordedRequest(method, path, query, form, time.time())
        with self._lock:
            self._requests.append(record)
        try:
            reply = self._route(method, path, query, form, authorization)
        except _DropConnection:
            raise
        except Exception:
            traceback.print_exc()
            reply = _Reply(500, twilio_error(20500, "Internal Server Error", 500))
        record.status = reply.status
        return reply

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        form: dict[str, str],
        authorization: str | None,
    ) -> _Reply:
        if not path.startswith(f"/{API_VERSION}/"):
            return _not_found(path)
        many = _MESSAGES_PATH.fullmatch(path)
        one = None if many else _MESSAGE_PATH.fullmatch(path)
        account = many.group(1) if many else one.group(1) if one else None
        if not self._authorized(authorization) or (account and account != self.account_sid):
            return _Reply(
                401,
                twilio_error(
                    20003, "Authenticate", 401, detail="Your AccountSid or AuthToken was incorrect."
                ),
                [("WWW-Authenticate", 'Basic realm="Twilio API"')],
            )
        if many and method == "POST":
            return self._create(form)
        if many and method == "GET":
            return self._list(path, query)
        if one and method == "GET":
            with self._lock:
                message = self._by_sid.get(one.group(2))
                if message is not None:
                    return _Reply(200, message.resource())
            return _not_found(path)
        if many or one:
            return _Reply(405, twilio_error(20004, "Method not allowed", 405))
        return _not_found(path)

    def _authorized(self, authorization: str | None) -> bool:
        if not authorization or authorization[:6].lower() != "basic ":
            return False
        try:
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _create(self, form: dict[str, str]) -> _Reply:
        with self._lock:
            fail = self._fail_left > 0
            if fail:
                self._fail_left -= 1
                status, retry_after = self._fail_status, self._retry_after
            hang = not fail and self._hang_left > 0
            if hang:
                self._hang_left -= 1
                seconds, wake = self._hang_seconds, self._wake
        if fail:
            return _fault(status, retry_after)
        if hang and wake.wait(seconds):
            raise _DropConnection

        to = form.get("To", "")
        sender = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        if not to:
            return _bad_request(21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to) or to in self.invalid_numbers:
            return _bad_request(21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return _bad_request(21603, "A 'From' phone number is required.")
        if not body:
            return _bad_request(21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return _bad_request(
                21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self.unsubscribed_numbers:
            return _bad_request(21610, "Attempt to send to unsubscribed recipient")

        now = datetime.now(UTC)
        message = Message(
            sid="SM" + os.urandom(16).hex(),
            account_sid=self.account_sid,
            to=to,
            from_=sender,
            body=body,
            messaging_service_sid=service,
            status_callback=form.get("StatusCallback") or None,
            status="queued" if sender else "accepted",
            num_segments=num_segments(body),
            date_created=now,
            date_updated=now,
        )
        with self._changed:
            resource = message.resource()
            if self.auto_sent:
                message.status = "sent"
                message.date_sent = now
            self._messages.append(message)
            self._by_sid[message.sid] = message
            held = self._holding
            if held and self._hold_after > 0:
                self._hold_after -= 1
                held = False
            if held:
                self._held += 1
                release = self._release_event
            self._changed.notify_all()
        if held:
            release.wait()
        return _Reply(201, resource)

    def _list(self, path: str, query: dict[str, str]) -> _Reply:
        try:
            page_size = min(int(query.get("PageSize") or DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
            page = int(query.get("Page") or 0)
            matches = _date_filters(query)
        except ValueError as exc:
            return _bad_request(20001, f"Invalid parameter: {exc}")
        if page_size < 1 or page < 0:
            return _bad_request(20001, "Invalid paging parameters")
        to, sender = query.get("To"), query.get("From")
        with self._lock:
            # Newest first, as Twilio lists them.
            found = [
                m
                for m in reversed(self._messages)
                if (to is None or m.to == to)
                and (sender is None or m.from_ == sender)
                and all(match(m.date_sent) for match in matches)
            ]
            start = page * page_size
            token = query.get("PageToken", "")
            if token.startswith("PA"):
                # Resume after the last message of the previous page, so new arrivals (which
                # go to the front) do not shift the pages.
                after = token[2:]
                for index, message in enumerate(found):
                    if message.sid == after:
                        start = index + 1
                        break
            chunk = found[start : start + page_size]
            records = [m.resource() for m in chunk]
        filters = {k: v for k, v in query.items() if k not in {"Page", "PageSize", "PageToken"}}

        def page_uri(number: int, token: str | None = None) -> str:
            params = {**filters, "PageSize": page_size, "Page": number}
            if token:
                params["PageToken"] = token
            return f"{path}?{urlencode(params)}"

        has_next = start + page_size < len(found)
        return _Reply(
            200,
            {
                "end": start + len(chunk) - 1 if chunk else start,
                "first_page_uri": page_uri(0),
                "messages": records,
                "next_page_uri": page_uri(page + 1, "PA" + chunk[-1].sid) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": start,
                "uri": page_uri(page, token or None),
            },
        )

    def _control(self, method: str, path: str, body: bytes) -> _Reply:
        if method == "GET" and path == "/__received":
            with self._lock:
                return _Reply(200, [m.summary() for m in self._messages])
        if method == "GET" and path == "/__requests":
            with self._lock:
                by_path = Counter(r.path for r in self._requests)
                by_status = Counter(str(r.status) for r in self._requests)
                total = len(self._requests)
            return _Reply(
                200, {"total": total, "by_path": dict(by_path), "by_status": dict(by_status)}
            )
        if method == "GET" and path == "/__count":  # cheap enough to poll during a benchmark
            with self._lock:
                return _Reply(200, {"messages": len(self._messages)})
        if method == "GET" and path == "/__health":
            return _Reply(200, {"ok": True})
        if method == "POST" and path == "/__control":
            try:
                command = json.loads(body or b"{}")
                self.apply(command)
            except (ValueError, TypeError, KeyError) as exc:
                return _Reply(400, {"ok": False, "error": str(exc)})
            return _Reply(200, {"ok": True, **self.state()})
        return _Reply(404, {"ok": False, "error": f"no control endpoint {method} {path}"})

    def apply(self, command: dict[str, Any]) -> None:
        """Apply a /__control command: any of reset, fail_next (+status, retry_after),
        hang_next (+seconds), hold (+after), invalid, unsubscribed, outage (seconds); reset goes
        first."""
        if not isinstance(command, dict):
            raise TypeError("the control body must be a JSON object")
        if command.get("reset"):
            self.reset()
        if "fail_next" in command:
            self.fail_next(
                int(command["fail_next"]),
                int(command.get("status", 500)),
                int(command.get("retry_after", 1)),
            )
        if "hang_next" in command:
            self.hang_next(int(command["hang_next"]), float(command.get("seconds", 5.0)))
        if "hold" in command:
            if command["hold"]:
                self.hold(int(command.get("after", 0)))
            else:
                self.release()
        if "invalid" in command:
            self.invalid_numbers = set(command["invalid"])
        if "unsubscribed" in command:
            self.unsubscribed_numbers = set(command["unsubscribed"])
        if "outage" in command:
            # After the reply is written, or the reply would die with the connection.
            seconds = float(command["outage"])
            timer = threading.Timer(0.05, self.outage, args=(seconds,))
            timer.daemon = True
            timer.start()

    def state(self) -> dict[str, Any]:
        """The fake's counters and settings, as returned by POST /__control."""
        with self._lock:
            return {
                "messages": len(self._messages),
                "requests": len(self._requests),
                "fail_left": self._fail_left,
                "fail_status": self._fail_status,
                "hang_left": self._hang_left,
                "holding": self._holding,
                "held": self._held,
                "invalid": sorted(self.invalid_numbers),
                "unsubscribed": sorted(self.unsubscribed_numbers),
            }


def _bad_request(code: int, message: str) -> _Reply:
    return _Reply(400, twilio_error(code, message, 400))


def _not_found(path: str) -> _Reply:
    return _Reply(404, twilio_error(20404, f"The requested resource {path} was not found", 404))


def _fault(status: int, retry_after: int) -> _Reply:
    messages = {
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }
    message = messages.get(status, HTTPStatus(status).phrase)
    headers = [("Retry-After", str(retry_after))] if status in {429, 503} else []
    return _Reply(status, twilio_error(20000 + status, message, status), headers)


def _date_filters(query: dict[str, str]) -> list[Any]:
    """Predicates on date_sent for DateSent, DateSent< and DateSent> (both inclusive).

    The SDK sends `DateSent>` = value, which is `DateSent>=value` on the wire. A date-only value
    compares by day; a full timestamp (the SDK's format for datetimes) by second.
    """
    predicates = []
    for key, op in (("DateSent", "="), ("DateSent<", "<"), ("DateSent>", ">")):
        raw = query.get(key) or query.get(key + "=")
        if raw is None:
            continue
        if op == "=" and raw[:2] in {"<=", ">="}:
            op, raw = raw[0], raw[2:]
        predicates.append(_date_predicate(op, raw))
    return predicates


def _date_predicate(op: str, raw: str) -> Any:
    if "T" in raw:
        bound: datetime | date = (
            datetime.fromisoformat(raw.replace("Z", "+00:00"))
            .astimezone(UTC)
            .replace(microsecond=0)
        )

        def key(sent: datetime) -> datetime | date:
            return sent.replace(microsecond=0)
    else:
        bound = date.fromisoformat(raw)

        def key(sent: datetime) -> datetime | date:
            return sent.astimezone(UTC).date()

    def predicate(sent: datetime | None) -> bool:
        if sent is None:
            return False
        value = key(sent)
        if op == "<":
            return value <= bound  # type: ignore[operator]
        if op == ">":
            return value >= bound  # type: ignore[operator]
        return value == bound

    return predicate


# -- HTTP plumbing ------------------------------------------------------------------------------

_MAX_LINE = 65536
_MAX_HEADERS = 100
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def _parse_form(text: str) -> dict[str, str]:
    """application/x-www-form-urlencoded (also a query string) to {name: first value}.

    Much faster than parse_qs for the common case of fields that need no unquoting.
    """
    form: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        form.setdefault(name, value)
    return form


class _BadRequest(Exception):
    pass


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True  # restart on the same port straight after stop()
    daemon_threads = True
    block_on_close = False  # never wait on held or hanging replies when closing
    request_queue_size = 1024  # many clients connect at once; a full backlog means SYN retries

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, address = self.socket.accept()
        # Responses go out in one write; never let Nagle hold one back for a delayed ACK.
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._connections_lock:
            self._connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # peers vanishing is routine here
            super().handle_error(request, client_address)


class _Handler(socketserver.StreamRequestHandler):
    """A lean HTTP/1.1 keep-alive server loop.

    http.server's BaseHTTPRequestHandler parses headers with the email package, which costs
    more than everything else a request does here; this reads them into a plain dict.
    """

    server: _Server

    def handle(self) -> None:
        while self._serve_one():
            pass

    def _serve_one(self) -> bool:
        """Serve one request; False when the connection must be closed."""
        rfile = self.rfile
        line = rfile.readline(_MAX_LINE)
        while line in (b"\r\n", b"\n"):  # stray empty lines before a request are allowed
            line = rfile.readline(_MAX_LINE)
        if not line:
            return False
        try:
            method, target, version, headers = self._read_head(line)
            connection = headers.get("connection", "").lower()
            if version == "HTTP/1.1":
                keep_alive = connection != "close"
            else:
                keep_alive = connection == "keep-alive"
            if headers.get("expect", "").lower() == "100-continue":
                self.connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = self._read_chunked()
            else:
                length = int(headers.get("content-length") or 0)
                body = rfile.read(length) if length > 0 else b""
        except (_BadRequest, ValueError):
            self._send(_Reply(400, twilio_error(20001, "Bad Request", 400)), keep_alive=False)
            return False
        try:
            reply = self.server.fake._handle(method, target, headers.get("authorization"), body)
        except _DropConnection:
            return False
        return self._send(reply, keep_alive)

    def _read_head(self, line: bytes) -> tuple[str, str, str, dict[str, str]]:
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadRequest
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(_MAX_LINE)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = raw.decode("latin-1").partition(":")
            if not colon or len(headers) >= _MAX_HEADERS:
                raise _BadRequest
            headers[name.strip().lower()] = value.strip()
        return parts[0], parts[1], parts[2], headers

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline(_MAX_LINE).split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    def _send(self, reply: _Reply, keep_alive: bool) -> bool:
        payload = json.dumps(reply.payload).encode()
        head = [
            f"HTTP/1.1 {reply.status} {_PHRASES.get(reply.status, '')}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(payload)}",
            f"Date: {_http_date()}",
            f"Twilio-Request-Id: RQ{os.urandom(16).hex()}",
        ]
        head.extend(f"{name}: {value}" for name, value in reply.headers)
        if not keep_alive:
            head.append("Connection: close")
        head.append("\r\n")
        try:
            # Head and body in one sendall: see the module docstring.
            self.connection.sendall("\r\n".join(head).encode("latin-1") + payload)
        except OSError:
            return False
        return keep_alive


# -- the SDK side -------------------------------------------------------------------------------


class LocalTwilioHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending what would go to api.twilio.com to `base_url` instead."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        if self.session is not None:
            # The SDK tunes (pool size, max_retries) only its https:// adapter; reuse it for
            # plain http so the fake sees the same client behaviour as Twilio would.
            self.session.mount("http://", self.session.get_adapter(TWILIO_API))
            self.session.trust_env = False  # no proxy or .netrc from the environment

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


# -- command line -------------------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="test-auth-token")
    parser.add_argument(
        "--no-auto-sent", action="store_true", help="leave messages queued, date_sent null"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        args.host,
        args.port,
        auto_sent=not args.no_auto_sent,
    ).start()
    print(f"listening on {fake.base_url}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(1.0):
        pass
    fake.stop()


if __name__ == "__main__":
    main()
