"""What every message provider does: hand over one message, say whether a failure is worth
retrying, and (where the provider can be asked) say whether it already has a message."""

from __future__ import annotations

import threading
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
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

#: Called with a group of messages just before they can reach the provider; returns the ones
#: that may go (the sender writes `handed_over_at` for them here). Those it leaves out are not
#: sent and get no result.
Admit = Callable[[list[OutgoingMessage]], list[OutgoingMessage]]


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
        # Places for admitted messages, shared by every send_many call on this provider (two
        # lanes, say two agencies' rate allowances, can feed one provider at once).
        self._places = Places(concurrency)

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
        self, messages: Iterable[OutgoingMessage], admit: Admit | None = None
    ) -> Iterator[tuple[OutgoingMessage, Result]]:
        """Results in the order they complete.

        With `admit`, a sliding window: no more than `concurrency` messages are admitted and
        unanswered at once (across every call on this provider), each group admitted just
        before it is sent, so a message admitted is one the provider may have seen. Without,
        every message is queued at once."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                self.concurrency, thread_name_prefix=f"send-{self.name}"
            )
        if admit is None:
            futures = {self._pool.submit(self._send_one, m): m for m in messages}
            for future in as_completed(futures):
                yield futures[future], future.result()
            return
        waiting = deque(messages)
        running: dict[Future[Result], OutgoingMessage] = {}
        while waiting or running:
            group = take_places(self._places, waiting, must=not running)
            if group:
                admitted = admit_into(self._places, group, admit)
                for message in admitted:
                    running[self._pool.submit(self._send_in_place, message)] = message
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield running.pop(future), future.result()

    def _send_in_place(self, message: OutgoingMessage) -> Result:
        # The place is given back before the future is done, so the caller woken by it finds
        # the place free and refills it at once.
        try:
            return self._send_one(message)
        finally:
            self._places.give()

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


class Places:
    """Room for `size` units in flight (messages, or an SMPP text's parts), taken and given
    back atomically, so callers taking several units cannot each hold part of what they need."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.used = 0
        self._changed = threading.Condition()

    def take(self, units: int = 1, *, block: bool = True) -> bool:
        units = min(units, self.size)  # one longer than the window still goes, on its own
        with self._changed:
            while self.used + units > self.size:
                if not block:
                    return False
                self._changed.wait()
            self.used += units
            return True

    def give(self, units: int = 1) -> None:
        with self._changed:
            self.used -= min(units, self.size)
            self._changed.notify_all()


def take_places(
    places: Places,
    waiting: deque[OutgoingMessage],
    *,
    must: bool,
    units: Callable[[OutgoingMessage], int] = lambda _: 1,
) -> list[OutgoingMessage]:
    """The next messages there are free places for, in order. With `must` (the caller has
    nothing in flight to wait for) this blocks until the first fits; otherwise it takes only
    what fits now."""
    group: list[OutgoingMessage] = []
    if waiting and must:
        places.take(units(waiting[0]))
        group.append(waiting.popleft())
    while waiting and places.take(units(waiting[0]), block=False):
        group.append(waiting.popleft())
    return group


def admit_into(
    places: Places,
    group: list[OutgoingMessage],
    admit: Admit,
    units: Callable[[OutgoingMessage], int] = lambda _: 1,
) -> list[OutgoingMessage]:
    """Ask `admit` about a group holding places; the places of those refused are given back."""
    try:
        admitted = admit(group)
    except BaseException:
        for message in group:
            places.give(units(message))
        raise
    kept = {m.notification_id for m in admitted}
    for message in group:
        if message.notification_id not in kept:
            places.give(units(message))
    return admitted
