"""Texts through Twilio's Messages API with the official SDK.

The notification's UUID rides in the StatusCallback URL, so delivery receipts find their row.
Twilio has no idempotency key, but it can be asked which messages it holds for a number: after
a crash between hand-off and record, `find` looks for ours before anything is sent again.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import aiohttp
import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from victim_notify.providers.base import (
    Accepted,
    Admit,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentFailure,
    Provider,
    ProviderError,
    Result,
    TransientFailure,
)

TWILIO_API = "https://api.twilio.com"

# Error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
PERMANENT_ERRORS = {
    21211,  # invalid 'To' number
    21214,  # 'To' number cannot be reached
    21408,  # no permission to send to this region
    21610,  # recipient replied STOP (unsubscribed)
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    21635,  # 'To' cannot be a landline
    30005,  # unknown destination handset
    30006,  # landline or unreachable carrier
}


class _ApiBaseHttpClient(TwilioHttpClient):
    """Sends the SDK's requests to another base URL (a local stand-in of the API in tests)."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class _AsyncApiClient(AsyncTwilioHttpClient):
    """The SDK's aiohttp client with a real timeout (the SDK passes none, which aiohttp reads as
    'wait forever') and, optionally, another base URL."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        if url.startswith(TWILIO_API) and self.base_url != TWILIO_API:
            url = self.base_url + url[len(TWILIO_API) :]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout  # aiohttp reads a float as total
        return await super().request(method, url, *args, **kwargs)


class TwilioProvider(Provider):
    name = "twilio"
    channel = "sms"
    can_be_asked = True

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_url: str = TWILIO_API,
        timeout: float = 15.0,
        concurrency: int = 8,
        status_callback_base: str = "",
    ) -> None:
        super().__init__(concurrency)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.api_url = api_url
        self.timeout = timeout
        self.status_callback_base = status_callback_base
        self._local = threading.local()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_client: Client | None = None
        self._loop_lock = threading.Lock()

    @classmethod
    def from_settings(cls) -> TwilioProvider:
        return cls(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            api_url=settings.TWILIO_API_URL,
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
            concurrency=settings.SEND_CONCURRENCY,
            status_callback_base=f"{settings.PUBLIC_URL}/hooks/twilio/status",
        )

    def _client(self) -> Client:
        # One client (and HTTP connection pool) per sending thread.
        client = getattr(self._local, "client", None)
        if client is None:
            if self.api_url == TWILIO_API:
                http = TwilioHttpClient(timeout=self.timeout)
            else:
                http = _ApiBaseHttpClient(self.api_url, timeout=self.timeout)
            client = Client(self.account_sid, self.auth_token, http_client=http)
            self._local.client = client
        return client

    def _options(self, message: OutgoingMessage) -> dict[str, str]:
        options = {"to": message.to, "from_": message.sender, "body": message.body}
        if self.status_callback_base:
            options["status_callback"] = f"{self.status_callback_base}/{message.notification_id}"
        return options

    def send(self, message: OutgoingMessage) -> Accepted:
        try:
            created = self._client().messages.create(**self._options(message))
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.RequestException as exc:
            raise _network_failure(exc, never_connected=_never_connected(exc)) from exc
        return Accepted(created.sid or "", created.status or "queued")

    def health_check(self) -> bool:
        try:
            self._client().messages.list(limit=1)
        except (TwilioRestException, requests.RequestException):
            return False
        return True

    # Many texts at once: the SDK's aiohttp client on one event loop keeps `concurrency`
    # requests in flight at about half the CPU per message of one thread per request.

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._loop_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="twilio-send", daemon=True).start()

                async def make_client() -> Client:
                    http = _AsyncApiClient(self.api_url, self.timeout)
                    return Client(self.account_sid, self.auth_token, http_client=http)

                self._async_client = asyncio.run_coroutine_threadsafe(make_client(), loop).result()
                self._loop = loop
            return self._loop

    async def _send_async(self, message: OutgoingMessage, gate: asyncio.Semaphore) -> Result:
        assert self._async_client is not None
        async with gate:
            try:
                created = await self._async_client.messages.create_async(**self._options(message))
            except TwilioRestException as exc:
                return _classify(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return _network_failure(
                    exc, never_connected=isinstance(exc, aiohttp.ClientConnectorError)
                )
            except Exception as exc:  # an unknown failure is retried, never lost
                return TransientFailure(f"unexpected {type(exc).__name__}: {exc}"[:300])
        return Accepted(created.sid or "", created.status or "queued")

    def send_many(
        self, messages: Iterable[OutgoingMessage], admit: Admit | None = None
    ) -> Iterator[tuple[OutgoingMessage, Result]]:
        loop = self._ensure_loop()
        done: queue.Queue[tuple[OutgoingMessage, Result]] = queue.Queue()
        batch = list(messages)
        if admit is not None:  # all at once: Twilio can be asked what it got after a crash
            batch = admit(batch)

        async def send_all() -> None:
            gate = asyncio.Semaphore(self.concurrency)

            async def one(message: OutgoingMessage) -> None:
                done.put((message, await self._send_async(message, gate)))

            await asyncio.gather(*(one(m) for m in batch))

        future = asyncio.run_coroutine_threadsafe(send_all(), loop)
        for _ in batch:
            yield done.get()
        future.result()

    def close(self) -> None:
        super().close()
        with self._loop_lock:
            loop, client = self._loop, self._async_client
            self._loop = self._async_client = None
        if loop is not None and client is not None:
            asyncio.run_coroutine_threadsafe(client.http_client.close(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)

    def find(self, message: OutgoingMessage) -> Accepted | None:
        """Twilio's record of a message we may have handed over before a crash: one to the same
        number from our number with exactly our body (which carries the report number)."""
        try:
            recent = self._client().messages.list(to=message.to, from_=message.sender, limit=100)
        except (TwilioRestException, requests.RequestException) as exc:
            raise TransientFailure(
                f"cannot ask Twilio: {type(exc).__name__}", code="lookup"
            ) from exc
        for candidate in recent:
            if candidate.body == message.body:
                return Accepted(candidate.sid or "", candidate.status or "")
        return None


def _never_connected(exc: requests.RequestException) -> bool:
    return isinstance(exc, requests.ConnectTimeout) or (
        isinstance(exc, requests.ConnectionError) and "NewConnectionError" in repr(exc)
    )


def _network_failure(exc: BaseException, *, never_connected: bool) -> ProviderError:
    """Never connected: Twilio cannot have the message, try again. Connected and then no
    answer: it may have it, so it is looked up before anything is sent again."""
    if never_connected:
        return TransientFailure(f"Twilio unreachable: {type(exc).__name__}", code="connection")
    return OutcomeUnknown(f"no answer from Twilio: {type(exc).__name__}", code="no_answer")


def _classify(exc: TwilioRestException) -> PermanentFailure | TransientFailure:
    code = str(exc.code or exc.status)
    text = f"Twilio {exc.status} error {exc.code}: {exc.msg}"[:300]
    if exc.code in PERMANENT_ERRORS:
        return PermanentFailure(text, code=code)
    if exc.status == 429 or exc.status >= 500:
        return TransientFailure(text, code=code)
    if exc.status == 400:
        # An unknown 400 is a request Twilio will refuse again: do not retry it forever.
        return PermanentFailure(text, code=code)
    return TransientFailure(text, code=code)  # 401/403: credentials to fix, then retry
