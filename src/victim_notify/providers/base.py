"""What every message provider does: hand over one message, say whether a failure is worth
retrying, and (where the provider can be asked) say whether it already has a message."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field


class ProviderError(Exception):
    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class CannotBeAsked(ProviderError):
    """The provider keeps no record we can query (SMTP), so a lost outcome stays unknown."""


class OutcomeUnknown(ProviderError):
    """The request reached the provider but its answer did not reach us (the line dropped, the
    read timed out): the message may have been taken. It is never simply sent again: a
    provider that can be asked is asked later; for one that cannot, a person decides."""


class PermanentFailure(ProviderError):
    """Retrying cannot help: an invalid number, a landline, a mailbox that does not exist."""


class TransientFailure(ProviderError):
    """Worth trying again later: a timeout, a refused connection, a 5xx, a rate limit."""


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: uuid.UUID
    channel: str
    to: str
    sender: str  # E.164 number for texts, address for email
    sender_name: str
    reply_to: str
    subject: str
    body: str
    html: str
    # Extra email headers (List-Unsubscribe, List-Unsubscribe-Post); empty for texts.
    headers: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Accepted:
    provider_message_id: str
    provider_status: str


Result = Accepted | ProviderError


class Provider(ABC):
    """Base class. A provider module subclasses this, implements `send`, and is named in
    `registry.py`. `send_many` keeps several requests in flight, since a real provider
    answers in tens to hundreds of milliseconds."""

    name: str = ""
    channel: str = ""
    #: Whether `find` can tell if the provider already has a message (after a crash).
    can_be_asked: bool = False
    #: Whether sending writes to our own database (then it runs on the caller's thread).
    uses_database: bool = False

    def __init__(self, concurrency: int = 8) -> None:
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None

    @abstractmethod
    def send(self, message: OutgoingMessage) -> Accepted:
        """Hand over one message; raise PermanentFailure or TransientFailure."""

    def find(self, message: OutgoingMessage) -> Accepted | None:
        """The provider's record of this message, or None if it never received it."""
        raise CannotBeAsked(f"{self.name} cannot be asked about a message")

    def health_check(self) -> bool:
        """Whether the provider answers now; used to bring it back after a failover."""
        return True

    def send_many(
        self, messages: Iterable[OutgoingMessage]
    ) -> Iterator[tuple[OutgoingMessage, Result]]:
        """Results in the order they complete."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.concurrency, thread_name_prefix=f"send-{self.name}"
            )
        futures = {self._pool.submit(self._send_one, m): m for m in messages}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def _send_one(self, message: OutgoingMessage) -> Result:
        try:
            return self.send(message)
        except ProviderError as exc:
            return exc
        except Exception as exc:
            return TransientFailure(f"unexpected {type(exc).__name__}: {exc}"[:300])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
