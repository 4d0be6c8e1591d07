"""Texts over an SMPP 3.4 link to a carrier's or an aggregator's SMSC, with smpplib's PDUs.

One transceiver session, owned by a background thread that reads every PDU, answers the
SMSC's enquire_link, sends its own when the line is quiet, and reconnects with exponential
backoff and jitter when the link drops. Sending threads write submit_sm on that session, at
most `window` of them unanswered at once, and are woken by their submit_sm_resp (matched by
sequence number).

What is guaranteed, and what is not:
- A text the SMSC never received a whole submit_sm for (the link was down, the window stayed
  full, the write failed) is a TransientFailure: sending it again cannot make a second copy.
- A submit_sm that was written but never answered (the link dropped mid-window, or no answer
  within the timeout) is OutcomeUnknown: SMPP has no way to ask the SMSC about a message, so
  a person decides. It is never submitted again on a guess.
- A long text goes in parts (UDH concatenation, 8-bit reference). It is Accepted when every
  part is; its provider message id is the first part's message_id. The other parts' ids are
  mapped to the first in memory, so their receipts count for the message while this process
  lives; after a restart a receipt for a later part is logged and dropped, and the first
  part's receipt alone settles the message.
- Delivery receipts and replies are written to the database by a worker thread, never on the
  thread that reads the link, and each deliver_sm is answered only once its row is stored, so
  an SMSC redelivers what we lost in a crash (a reply may then be stored twice; never lost).
  The parts of a long reply but the last are answered as they come (an SMSC may wait for
  that answer before sending the next part), so those are held in memory until the last.
  A database error answers ESME_RX_T_APPN: the SMSC tries again later.
- A receipt that arrives before the sender recorded the message id is tried again for about
  a minute (answered at once; a crash in that minute loses it, and the text stays `sent`).
  Receipts are matched on the message_id exactly: an SMSC that answers submit_sm in hex and
  writes receipts in decimal would need a translation here.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import random
import select
import socket
import struct
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from smpplib import smpp

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
    admit_into,
    take_places,
)
from victim_notify.providers.smpp_codec import (
    ESME_RINVCMDID,
    ESME_RINVOPTPARSTREAM,
    ESME_ROK,
    ESME_RTHROTTLED,
    ESME_RUNKNOWNERR,
    ESME_RX_P_APPN,
    ESME_RX_T_APPN,
    TRANSIENT_STATUSES,
    Concatenation,
    EncodedText,
    Receipt,
    decode_text,
    e164_from_smpp,
    encode_text,
    parse_receipt,
    smpp_address,
    split_udh,
    status_code,
)

log = logging.getLogger(__name__)

# --- Settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmppSettings:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    source_ton: int | None = None  # None: from the sender (1 for +E.164, 5 for a name)
    source_npi: int | None = None
    window: int = 10  # unanswered submit_sm allowed on the session
    enquire_link: float = 30.0  # seconds of quiet before we ask whether the SMSC is there
    timeout: float = 15.0  # seconds to wait for any answer
    reconnect_base: float = 1.0
    reconnect_max: float = 60.0
    throttle_pause: float = 1.0  # writing pauses this long after ESME_RTHROTTLED

    _NUMBERS = {"source_ton", "source_npi", "window"}
    _SECONDS = {"enquire_link", "timeout", "reconnect_base", "reconnect_max", "throttle_pause"}

    @classmethod
    def from_url(cls, url: str, timeout: float = 15.0) -> SmppSettings:
        """smpp://system_id:password@host:port?system_type=&source_ton=&source_npi=&window=10
        &enquire_link=30 (also reconnect_base, reconnect_max, throttle_pause, timeout)."""
        parts = urlsplit(url)
        if parts.scheme != "smpp" or not parts.hostname:
            raise ImproperlyConfigured(
                f"SMPP_URL must look like smpp://system_id:password@host:2775, not {parts.scheme}://"
            )
        values: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or 2775,
            "system_id": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "timeout": timeout,
        }
        for name, raw in parse_qsl(parts.query, keep_blank_values=True):
            if name == "system_type":
                values[name] = raw
            elif name in cls._NUMBERS | cls._SECONDS:
                if raw == "" and name in {"source_ton", "source_npi"}:
                    continue
                try:
                    number = int(raw) if name in cls._NUMBERS else float(raw)
                except ValueError:
                    raise ImproperlyConfigured(
                        f"SMPP_URL: {name}={raw!r} is not a number"
                    ) from None
                if number < 0 or (name in {"window", "timeout"} and number <= 0):
                    raise ImproperlyConfigured(f"SMPP_URL: {name} must be positive, not {raw}")
                values[name] = number
            else:
                raise ImproperlyConfigured(f"SMPP_URL: unknown option {name!r}")
        # smpplib silently cuts these to the protocol's sizes; a cut password fails to bind
        # with no hint why, so say it here.
        for name, limit in (("system_id", 15), ("password", 8), ("system_type", 12)):
            if len(values.get(name, "")) > limit:
                raise ImproperlyConfigured(f"SMPP_URL: {name} is longer than {limit} characters")
        if not values["system_id"]:
            raise ImproperlyConfigured("SMPP_URL needs a system_id (smpp://system_id:password@…)")
        return cls(**values)


# Command ids we read before handing a PDU to smpplib (it refuses ids it does not know).
_GENERIC_NACK = 0x80000000
_RESPONSE_BIT = 0x80000000
_MAX_PDU = 65536


# --- The session ----------------------------------------------------------------------------


class _Sequence:
    """Sequence numbers for smpplib's PDUs, shared by every sending thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = random.randrange(1, 1 << 20)

    @property
    def sequence(self) -> int:
        return self._next

    def next_sequence(self) -> int:
        with self._lock:
            value = self._next
            self._next = value + 1 if value < 0x7FFFFFFF else 1
            return value


class _ParseOnly:
    """smpplib asks its 'client' for a sequence number even for a PDU it is parsing."""

    sequence = 0

    def next_sequence(self) -> int:
        return 0


_PARSE_ONLY = _ParseOnly()


@dataclass
class _Outcome:
    kind: str  # "ok", "status" (refused with a command_status), "unwritten", "unknown"
    message_id: str = ""
    status: int = 0
    reason: str = ""
    code: str = ""  # for "unwritten": link_down, window_full or write_failed


class _Pending:
    """One submit_sm on the session, until its answer (or the lack of one) is known."""

    __slots__ = ("callback", "deadline", "seq", "written")

    def __init__(self, seq: int, deadline: float, callback: Callable[[_Outcome], None]) -> None:
        self.seq = seq
        self.deadline = deadline
        self.written = False
        self.callback = callback


class _Session:
    def __init__(self, sock: socket.socket, window: int) -> None:
        self.sock = sock
        self.id = uuid.uuid4().hex[:12]
        self.window = window
        self.alive = True
        self.write_lock = threading.Lock()
        self.cond = threading.Condition()
        self.pending: dict[int, _Pending] = {}
        self.in_flight = 0
        self.paused_until = 0.0
        self.last_received = time.monotonic()
        self.enquire_sent_at: float | None = None

    def write(self, data: bytes) -> None:
        with self.write_lock:
            self.sock.sendall(data)

    def take_slot(self, deadline: float) -> bool:
        """Wait for room in the window. False when the deadline passed or the link died."""
        with self.cond:
            while self.alive and self.in_flight >= self.window:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)
            if not self.alive:
                return False
            self.in_flight += 1
            return True

    def settle(self, seq: int, outcome: _Outcome) -> bool:
        """Give a submit its outcome once; frees its place in the window."""
        with self.cond:
            pending = self.pending.pop(seq, None)
            if pending is None:
                return False
            self.in_flight -= 1
            self.cond.notify_all()
        pending.callback(outcome)
        return True

    def close(self, reason: str) -> None:
        """The link is gone: every submit written on it has an unknown outcome; one that was
        never (fully) written can go on the next session."""
        with self.write_lock, self.cond:
            if not self.alive:
                return
            self.alive = False
            waiting = list(self.pending.values())
            self.cond.notify_all()
        for pending in waiting:
            kind = "unknown" if pending.written else "unwritten"
            self.settle(pending.seq, _Outcome(kind, reason=reason))
        try:
            self.sock.close()
        except OSError:
            pass


class _LinkDown(Exception):
    pass


def _read_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise _LinkDown("the SMSC closed the connection")
        chunks += chunk
    return bytes(chunks)


def _read_frame(sock: socket.socket) -> bytes:
    head = _read_exact(sock, 4)
    (length,) = struct.unpack(">L", head)
    if not 16 <= length <= _MAX_PDU:
        raise _LinkDown(f"PDU length {length} is not plausible: the stream is out of step")
    return head + _read_exact(sock, length - 4)


def _tlvs(pdu: Any) -> dict[str, Any]:
    names = ("receipted_message_id", "message_state", "network_error_code", "message_payload")
    found = {name: getattr(pdu, name, None) for name in names}
    if isinstance(found["receipted_message_id"], bytes):
        found["receipted_message_id"] = found["receipted_message_id"].decode("latin-1")
    return found


def _text_of(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value or ""


# --- Inbound work, done off the link thread -------------------------------------------------


@dataclass
class _Reply:
    session: _Session | None
    seq: int | None  # the deliver_sm to answer once stored; None when already answered
    from_address: str
    to_address: str
    text: str
    message_id: str


@dataclass
class _ReceiptJob:
    session: _Session | None
    seq: int | None
    receipt: Receipt
    tries: int = 0


@dataclass
class _MoParts:
    started: float
    data_coding: int
    total: int
    parts: dict[int, bytes] = field(default_factory=dict)


# --- The provider ---------------------------------------------------------------------------


class SmppProvider(Provider):
    name = "smpp"
    channel = "sms"
    can_be_asked = False  # SMPP's query_sm is not offered by most SMSCs and keeps no history

    #: Seconds between looking again for a message a receipt names that is not recorded yet.
    receipt_retry_delays: tuple[float, ...] = (1, 2, 4, 8, 16, 32)
    #: How long the parts of a long reply are waited for before what came is stored.
    mo_parts_wait: float = 300.0
    #: How many later-part message ids are remembered for their receipts.
    part_ids_kept: int = 100_000
    #: Retries of the parts a long text lost to a temporary refusal while others went through.
    part_retries: int = 3

    def __init__(self, config: SmppSettings) -> None:
        super().__init__(concurrency=config.window)
        self.config = config
        self._seq = _Sequence()
        self._references = itertools.count(random.randrange(256))
        self._lock = threading.Condition()
        self._session: _Session | None = None
        self._stopping = threading.Event()
        self._link_thread: threading.Thread | None = None
        self._inbound: queue.Queue[_Reply | _ReceiptJob | None] = queue.Queue()
        self._inbound_thread: threading.Thread | None = None
        self._part_ids: OrderedDict[str, str] = OrderedDict()
        self._part_ids_lock = threading.Lock()
        self._mo_parts: dict[tuple[str, str, int, int], _MoParts] = {}
        #: Successful binds so far (a reconnect adds one); for monitoring and tests.
        self.binds = 0
        self.last_bind_error = ""

    @classmethod
    def from_settings(cls) -> SmppProvider:
        url = getattr(settings, "SMPP_URL", "")
        if not url:
            raise ImproperlyConfigured("The smpp text provider needs SMPP_URL.")
        return cls(SmppSettings.from_url(url, settings.PROVIDER_TIMEOUT_SECONDS))

    # The link -------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the link (and keep it open) without sending: a worker calls this at start so
        replies and receipts are received even when there is nothing to send."""
        with self._lock:
            if self._link_thread is None or not self._link_thread.is_alive():
                self._stopping.clear()
                self._link_thread = threading.Thread(
                    target=self._run_link, name="smpp-link", daemon=True
                )
                self._link_thread.start()
            if self._inbound_thread is None or not self._inbound_thread.is_alive():
                self._inbound_thread = threading.Thread(
                    target=self._run_inbound, name="smpp-inbound", daemon=True
                )
                self._inbound_thread.start()

    def health_check(self) -> bool:
        """Up when the link is bound (waiting a little for it to bind or come back)."""
        return self._wait_session(min(self.config.timeout, 5.0)) is not None

    @property
    def link_up(self) -> bool:
        session = self._session
        return session is not None and session.alive

    def _wait_session(self, timeout: float) -> _Session | None:
        if self._stopping.is_set():
            return None  # closed: only an explicit start() opens the link again
        self.start()
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._stopping.is_set():
                session = self._session
                if session is not None and session.alive:
                    return session
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)
        return None

    def _run_link(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                session = self._connect()
            except Exception as exc:  # refused, timed out, bind refused, garbled answer
                self.last_bind_error = str(exc)[:200]
                delay = min(self.config.reconnect_max, self.config.reconnect_base * 2**attempt)
                delay *= random.uniform(0.5, 1.0)  # "equal jitter": never below half the step
                attempt += 1
                log.warning(
                    "SMPP link not up; trying again",
                    extra={"attempt": attempt, "delay": round(delay, 2), "error": str(exc)[:200]},
                )
                self._stopping.wait(delay)
                continue
            attempt = 0
            with self._lock:
                self._session = session
                self.binds += 1
                self._lock.notify_all()
            log.info("SMPP link bound", extra={"session": session.id})
            reason = self._read_until_down(session)
            session.close(reason)
            with self._lock:
                if self._session is session:
                    self._session = None
            if not self._stopping.is_set():
                log.warning("SMPP link down", extra={"session": session.id, "reason": reason})
                self._stopping.wait(self.config.reconnect_base * random.uniform(0.5, 1.0))

    def _connect(self) -> _Session:
        c = self.config
        sock = socket.create_connection((c.host, c.port), timeout=c.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            bind = smpp.make_pdu(
                "bind_transceiver",
                client=self._seq,
                system_id=c.system_id,
                password=c.password,
                system_type=c.system_type,
                addr_ton=0,
                addr_npi=0,
                address_range="",
            )
            sock.sendall(bind.generate())
            while True:
                raw = _read_frame(sock)
                command_id, status, seq = struct.unpack(">LLL", raw[4:16])
                if command_id in (0x80000009, _GENERIC_NACK) and seq == bind.sequence:
                    break
            if status != ESME_ROK:
                raise _LinkDown(f"bind refused: {status_code(status)}")
        except BaseException:
            sock.close()
            raise
        return _Session(sock, c.window)

    def _read_until_down(self, session: _Session) -> str:
        """Read and act on PDUs until the link fails; returns why it did."""
        tick = min(0.2, self.config.enquire_link / 4)
        try:
            while not self._stopping.is_set():
                self._housekeeping(session)
                if not session.alive:
                    return "closed"
                readable, _, _ = select.select([session.sock], [], [], tick)
                if readable:
                    raw = _read_frame(session.sock)
                    session.last_received = time.monotonic()
                    self._handle(session, raw)
            return "stopping"
        except _LinkDown as exc:
            return str(exc)
        except (OSError, ValueError) as exc:  # ValueError: select on a socket closed meanwhile
            return f"{type(exc).__name__}: {exc}"[:200]
        except Exception as exc:  # a fault of ours must not end the link for good
            log.exception("SMPP link failed")
            return f"{type(exc).__name__}: {exc}"[:200]

    def _housekeeping(self, session: _Session) -> None:
        now = time.monotonic()
        # Submits written but unanswered past the timeout: their fate is unknown.
        with session.cond:
            late = [p.seq for p in session.pending.values() if p.written and p.deadline < now]
        for seq in late:
            session.settle(seq, _Outcome("unknown", reason="no submit_sm_resp in time"))
        if session.enquire_sent_at is not None:
            if now - session.enquire_sent_at > self.config.timeout:
                raise _LinkDown("no enquire_link_resp in time")
        elif now - session.last_received >= self.config.enquire_link:
            session.enquire_sent_at = now
            session.write(smpp.make_pdu("enquire_link", client=self._seq).generate())
        for key, parts in list(self._mo_parts.items()):
            if now - parts.started > self.mo_parts_wait:
                del self._mo_parts[key]
                self._queue_reply(session, None, key[0], key[1], parts)

    def _respond(
        self, session: _Session | None, command: str, seq: int | None, status: int
    ) -> None:
        if session is None or seq is None or not session.alive:
            return  # the SMSC will deliver it again on the next session
        pdu = smpp.make_pdu(command, client=self._seq)
        pdu.sequence = seq
        pdu.status = status
        try:
            session.write(pdu.generate())
        except OSError as exc:
            log.warning("SMPP answer not written", extra={"command": command, "error": str(exc)})

    def _handle(self, session: _Session, raw: bytes) -> None:
        command_id, status, seq = struct.unpack(">LLL", raw[4:16])
        try:
            pdu = smpp.parse_pdu(raw, client=_PARSE_ONLY, allow_unknown_opt_params=True)
        except Exception as exc:  # unknown command or a PDU smpplib cannot read
            log.warning(
                "SMPP PDU not understood",
                extra={"command_id": f"0x{command_id:08X}", "error": str(exc)[:200]},
            )
            if not command_id & _RESPONSE_BIT:
                nack = ESME_RINVCMDID if "Unknown" in type(exc).__name__ else ESME_RINVOPTPARSTREAM
                self._respond(session, "generic_nack", seq, nack)
            elif command_id == 0x80000004:
                session.settle(seq, _Outcome("status", status=status or ESME_RUNKNOWNERR))
            return
        command = pdu.command
        if command == "submit_sm_resp":
            if status == ESME_RTHROTTLED:
                session.paused_until = time.monotonic() + self.config.throttle_pause
            if status == ESME_ROK:
                outcome = _Outcome("ok", message_id=_text_of(pdu.message_id))
            else:
                outcome = _Outcome("status", status=status)
            if not session.settle(seq, outcome):
                log.warning("SMPP answer for no submit in flight (after its timeout?)")
        elif command == "generic_nack":
            session.settle(seq, _Outcome("status", status=status or ESME_RUNKNOWNERR))
        elif command == "enquire_link_resp":
            session.enquire_sent_at = None
        elif command == "enquire_link":
            self._respond(session, "enquire_link_resp", seq, ESME_ROK)
        elif command == "deliver_sm":
            try:
                self._deliver(session, pdu)
            except Exception:
                # One PDU we cannot read must not take the link down (and again, each time
                # the SMSC redelivers it): it is refused for good.
                log.exception("SMPP deliver_sm not understood")
                self._respond(session, "deliver_sm_resp", seq, ESME_RX_P_APPN)
        elif command == "unbind":
            self._respond(session, "unbind_resp", seq, ESME_ROK)
            raise _LinkDown("the SMSC unbound")
        elif command == "unbind_resp":
            raise _LinkDown("unbound")
        elif not command_id & _RESPONSE_BIT:
            self._respond(session, "generic_nack", seq, ESME_RINVCMDID)

    def _deliver(self, session: _Session, pdu: Any) -> None:
        esm_class = pdu.esm_class or 0
        data_coding = pdu.data_coding or 0
        body: bytes = pdu.short_message or pdu.message_payload or b""
        tlvs = _tlvs(pdu)
        message_type = esm_class & 0x3C
        if message_type in (0x08, 0x10):  # a handset's acknowledgement: not a reply, no news
            self._respond(session, "deliver_sm_resp", pdu.sequence, ESME_ROK)
            return
        if message_type in (0x04, 0x20):  # SMSC delivery receipt, or intermediate notification
            receipt = parse_receipt(body.decode("latin-1"), tlvs)
            if receipt is None:
                log.warning("SMPP receipt not understood")
                self._respond(session, "deliver_sm_resp", pdu.sequence, ESME_ROK)
                return
            self._inbound.put(_ReceiptJob(session, pdu.sequence, receipt))
            return
        source = e164_from_smpp(_text_of(pdu.source_addr), pdu.source_addr_ton or 0)
        destination = e164_from_smpp(_text_of(pdu.destination_addr), pdu.dest_addr_ton or 0)
        concat = None
        if esm_class & 0x40:
            concat, body = split_udh(body)
        elif getattr(pdu, "sar_total_segments", None):
            concat = Concatenation(
                pdu.sar_msg_ref_num or 0, pdu.sar_total_segments, pdu.sar_segment_seqnum or 1
            )
        if concat is None or concat.total <= 1:
            text = decode_text(body, data_coding)
            self._inbound.put(
                _Reply(
                    session, pdu.sequence, source, destination, text, f"{session.id}-{pdu.sequence}"
                )
            )
            return
        key = (source, destination, concat.reference, concat.total)
        parts = self._mo_parts.setdefault(
            key, _MoParts(time.monotonic(), data_coding, concat.total)
        )
        parts.parts[concat.number] = body
        if len(parts.parts) < concat.total:
            # Answered now: the SMSC may send the next part only after this answer.
            self._respond(session, "deliver_sm_resp", pdu.sequence, ESME_ROK)
            return
        del self._mo_parts[key]
        self._queue_reply(session, pdu.sequence, source, destination, parts)

    def _queue_reply(
        self, session: _Session, seq: int | None, source: str, destination: str, parts: _MoParts
    ) -> None:
        # Parts are joined before decoding, so a character split across parts survives.
        joined = b"".join(parts.parts.get(n, b"") for n in range(1, parts.total + 1))
        text = decode_text(joined, parts.data_coding)
        if len(parts.parts) < parts.total:
            text += " […]"  # a part never came; what did is kept rather than lost
        message_id = f"{session.id}-{seq if seq is not None else uuid.uuid4().hex[:8]}"
        self._inbound.put(_Reply(session, seq, source, destination, text, message_id))

    # Database work ---------------------------------------------------------------------------

    def _run_inbound(self) -> None:
        from django.db import close_old_connections, connection

        later: list[tuple[float, int, _ReceiptJob]] = []
        order = itertools.count()
        try:
            while True:
                timeout = 0.5
                if later:
                    timeout = max(0.0, min(timeout, later[0][0] - time.monotonic()))
                due: list[_Reply | _ReceiptJob] = []
                try:
                    job = self._inbound.get(timeout=timeout)
                except queue.Empty:
                    pass
                else:
                    if job is None:
                        return  # closing: receipts still waiting to be retried are dropped
                    due.append(job)
                while later and later[0][0] <= time.monotonic():
                    due.append(heapq.heappop(later)[2])
                if not due:
                    continue
                close_old_connections()
                for item in due:
                    retry = self._do(item)
                    if retry is not None and isinstance(item, _ReceiptJob):
                        heapq.heappush(later, (time.monotonic() + retry, next(order), item))
        finally:
            connection.close()

    def _do(self, job: _Reply | _ReceiptJob) -> float | None:
        """Store one reply or receipt, then answer its deliver_sm. Returns a delay when a
        receipt should be tried again."""
        try:
            if isinstance(job, _Reply):
                from victim_notify.replies.inbound import receive

                receive(
                    channel="sms",
                    to_address=job.to_address,
                    from_address=job.from_address,
                    body=job.text,
                    provider=self.name,
                    provider_message_id=job.message_id,
                )
                self._respond(job.session, "deliver_sm_resp", job.seq, ESME_ROK)
                return None
            return self._record_receipt(job)
        except Exception:
            # Not stored: the SMSC is asked to deliver it again later.
            log.exception("SMPP deliver_sm not stored")
            self._respond(job.session, "deliver_sm_resp", job.seq, ESME_RX_T_APPN)
            return None

    def _record_receipt(self, job: _ReceiptJob) -> float | None:
        from victim_notify.messages.delivery import record_status
        from victim_notify.messages.models import Notification

        receipt = job.receipt
        with self._part_ids_lock:
            message_id = self._part_ids.get(receipt.message_id, receipt.message_id)
        known = Notification.objects.filter(
            provider=self.name, provider_message_id=message_id
        ).exists()
        if not known:
            # Usually the receipt overtook the sender's record of the hand-over.
            self._respond(job.session, "deliver_sm_resp", job.seq, ESME_ROK)
            job.session, job.seq = None, None
            if job.tries < len(self.receipt_retry_delays):
                job.tries += 1
                return self.receipt_retry_delays[job.tries - 1]
            log.warning("SMPP receipt for a message we do not know", extra={"stat": receipt.stat})
            return None
        record_status(
            source="smpp",
            provider=self.name,
            provider_message_id=message_id,
            provider_status=receipt.stat,
            error_code=receipt.err,
            detail=receipt.detail,
        )
        self._respond(job.session, "deliver_sm_resp", job.seq, ESME_ROK)
        return None

    # Sending ---------------------------------------------------------------------------------

    def send(self, message: OutgoingMessage) -> Accepted:
        done = threading.Event()
        results: list[Result] = []

        def finished(_: OutgoingMessage, result: Result) -> None:
            results.append(result)
            done.set()

        self._start_send(message, finished, self.config.timeout)
        done.wait()  # every written part is settled by its answer, its timeout or a lost link
        result = results[0]
        if isinstance(result, ProviderError):
            raise result
        return result

    def send_many(
        self, messages: Iterable[OutgoingMessage], admit: Admit | None = None
    ) -> Iterator[tuple[OutgoingMessage, Result]]:
        """Keeps the window full: a feeder writes submits as fast as answers free places.

        With `admit`, a text is admitted only once the window has room for all its parts
        among those admitted and not yet answered, so every text admitted can be written at
        once: a crash leaves no more than a window's worth of texts the SMSC may not have."""
        batch = list(messages)
        done: queue.Queue[tuple[OutgoingMessage, Result | None]] = queue.Queue()
        encoded: dict[uuid.UUID, EncodedText | PermanentFailure] = {}

        def parts(message: OutgoingMessage) -> int:
            text = encoded.get(message.notification_id)
            if text is None:
                try:
                    text = encode_text(message.body, next(self._references))
                except PermanentFailure as exc:
                    text = exc
                encoded[message.notification_id] = text
            return len(text.parts) if isinstance(text, EncodedText) else 1

        def answered(message: OutgoingMessage, result: Result) -> None:
            if admit is not None:
                self._places.give(parts(message))
            done.put((message, result))

        def feed() -> None:
            wait = self.config.timeout
            waiting = deque(batch)
            while waiting:
                if admit is None:
                    group = [waiting.popleft()]
                else:
                    group = take_places(self._places, waiting, must=True, units=parts)
                    try:
                        admitted = admit_into(self._places, group, admit, parts)
                    except Exception as exc:  # none of these was written
                        log.exception("SMPP texts not admitted")
                        for message in [*group, *waiting]:
                            done.put((message, TransientFailure(f"not sent: {exc}"[:300])))
                        return
                    kept = {m.notification_id for m in admitted}
                    for refused in group:
                        if refused.notification_id not in kept:
                            done.put((refused, None))
                    group = admitted
                for message in group:
                    # Once the link was not there for a whole timeout, the rest fail at once.
                    text = encoded.get(message.notification_id)
                    if not self._start_send(message, answered, wait, text):
                        wait = 0.0

        feeder = threading.Thread(target=feed, name="smpp-feed", daemon=True)
        feeder.start()
        for _ in batch:
            message, result = done.get()
            if result is not None:
                yield message, result
        feeder.join()

    def _start_send(
        self,
        message: OutgoingMessage,
        on_done: Callable[[OutgoingMessage, Result], None],
        wait: float,
        encoded: EncodedText | PermanentFailure | None = None,
    ) -> bool:
        """Write every part of one text (blocking while the window is full); on_done is called
        once all are answered. Returns False when no session could be had."""
        try:
            if encoded is None:
                encoded = encode_text(message.body, next(self._references))
            elif isinstance(encoded, PermanentFailure):
                raise encoded
        except PermanentFailure as exc:
            on_done(message, exc)
            return True
        send = _Send(self, message, encoded, on_done)
        return send.submit_all(wait)

    def _submit(
        self,
        message: OutgoingMessage,
        encoded: EncodedText,
        index: int,
        wait: float,
        callback: Callable[[_Outcome], None],
    ) -> _Outcome | None:
        """Write one part on the current session, waiting (up to `wait`) for a session and a
        place in the window; `callback` gets its outcome later. Returns an outcome at once when
        the part was never written: it may then go on a later session."""
        deadline = time.monotonic() + wait
        source = smpp_address(message.sender, self.config.source_ton, self.config.source_npi)
        destination = smpp_address(message.to)
        multipart = len(encoded.parts) > 1
        while True:
            session = self._wait_session(max(0.0, deadline - time.monotonic()))
            if session is None:
                return _Outcome("unwritten", reason="the SMPP link is down", code="link_down")
            if not session.take_slot(deadline):
                if session.alive:
                    return _Outcome(
                        "unwritten", reason="the SMPP window stayed full", code="window_full"
                    )
                continue  # the link died while we waited: the next session will do
            pause = session.paused_until - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pdu = smpp.make_pdu(
                "submit_sm",
                client=self._seq,
                service_type="",
                source_addr_ton=source[0],
                source_addr_npi=source[1],
                source_addr=source[2],
                dest_addr_ton=destination[0],
                dest_addr_npi=destination[1],
                destination_addr=destination[2],
                esm_class=0x40 if multipart else 0x00,  # UDH indicator
                registered_delivery=1,  # a receipt for final outcomes
                data_coding=encoded.data_coding,
                short_message=encoded.parts[index],
            )
            data = pdu.generate()
            pending = _Pending(pdu.sequence, time.monotonic() + self.config.timeout, callback)
            with session.write_lock:
                with session.cond:
                    if not session.alive:
                        session.in_flight -= 1
                        continue
                    session.pending[pending.seq] = pending
                # Marked first: once bytes may have left, a lost link makes the outcome unknown.
                pending.written = True
                try:
                    session.sock.sendall(data)
                except OSError:
                    # sendall stopped part-way at most: an SMSC cannot act on half a PDU. Taken
                    # back before the lock is let go, so nothing else settles it: it is retried.
                    pending.written = False
                    with session.cond:
                        session.pending.pop(pending.seq, None)
                        session.in_flight -= 1
                        session.cond.notify_all()
            if pending.written:
                return None
            self._drop(session)
            with session.cond:  # until the link thread has seen it, rather than spin on it
                while session.alive and time.monotonic() < deadline:
                    session.cond.wait(0.05)

    def _drop(self, session: _Session) -> None:
        try:
            session.sock.shutdown(socket.SHUT_RDWR)  # the link thread sees it and reconnects
        except OSError:
            pass

    def remember_parts(self, first: str, others: list[str]) -> None:
        with self._part_ids_lock:
            for other in others:
                self._part_ids[other] = first
            while len(self._part_ids) > self.part_ids_kept:
                self._part_ids.popitem(last=False)

    def close(self) -> None:
        self._stopping.set()
        with self._lock:
            session = self._session
            self._lock.notify_all()
        if session is not None and session.alive:
            try:
                session.write(smpp.make_pdu("unbind", client=self._seq).generate())
            except OSError:
                pass
        for thread in (self._link_thread, self._inbound_thread):
            if thread is not None:
                if thread is self._inbound_thread:
                    self._inbound.put(None)
                thread.join(timeout=self.config.timeout + 5)
        if session is not None:
            session.close("provider closed")
        self._link_thread = self._inbound_thread = None
        super().close()


class _Send:
    """One text's parts on their way: written in order, answered in any order."""

    def __init__(
        self,
        provider: SmppProvider,
        message: OutgoingMessage,
        encoded: EncodedText,
        on_done: Callable[[OutgoingMessage, Result], None],
    ) -> None:
        self.provider = provider
        self.message = message
        self.encoded = encoded
        self.on_done = on_done
        self.outcomes: list[_Outcome | None] = [None] * len(encoded.parts)
        self.retries = 0
        self._lock = threading.Lock()
        self._open = 0  # parts written and not answered, plus one while still writing

    def submit_all(self, wait: float) -> bool:
        """Write the parts not yet accepted. False when the link was down."""
        linked = True
        with self._lock:
            self._open += 1
        todo = [i for i, o in enumerate(self.outcomes) if o is None or o.kind != "ok"]
        for position, index in enumerate(todo):
            with self._lock:
                self._open += 1
            unwritten = self.provider._submit(
                self.message, self.encoded, index, wait, partial(self._answered, index)
            )
            if unwritten is not None:
                linked = unwritten.code != "link_down"
                # The rest of this text is not written either: a gap would garble it.
                for rest in todo[position:]:
                    self.outcomes[rest] = unwritten
                with self._lock:
                    self._open -= 1
                break
        self._answered(None, None)
        return linked

    def _answered(self, index: int | None, outcome: _Outcome | None) -> None:
        with self._lock:
            if index is not None:
                self.outcomes[index] = outcome
            self._open -= 1
            if self._open:
                return
        self._finish()

    def _finish(self) -> None:
        outcomes = [o or _Outcome("unwritten", reason="not sent") for o in self.outcomes]
        accepted = [o for o in outcomes if o.kind == "ok"]
        if len(accepted) == len(outcomes):
            ids = [o.message_id for o in outcomes]
            if len(ids) > 1:
                self.provider.remember_parts(ids[0], ids[1:])
            self.on_done(self.message, Accepted(ids[0], "accepted"))
            return
        failed = [o for o in outcomes if o.kind != "ok"]
        if accepted:
            retryable = all(
                o.kind == "unwritten" or (o.kind == "status" and o.status in TRANSIENT_STATUSES)
                for o in failed
            )
            if retryable and self.retries < self.provider.part_retries:
                # Some parts reached the SMSC: the rest must follow, under the same reference,
                # or the phone shows half a text.
                self.retries += 1
                delay = self.provider.config.throttle_pause * 2 ** (self.retries - 1)
                timer = threading.Timer(
                    delay, self.submit_all, args=(self.provider.config.timeout,)
                )
                timer.daemon = True
                timer.start()
                return
            text = f"{len(accepted)} of {len(outcomes)} parts accepted; the others: " + ", ".join(
                sorted({_describe(o) for o in failed})
            )
            self.on_done(self.message, OutcomeUnknown(text[:300], code="partial"))
            return
        self.on_done(self.message, _failure(failed))


def _describe(outcome: _Outcome) -> str:
    if outcome.kind == "status":
        return status_code(outcome.status)
    return outcome.reason or outcome.kind


def _failure(failed: list[_Outcome]) -> ProviderError:
    """No part was accepted: the worst of the parts' failures decides."""
    unknown = [o for o in failed if o.kind == "unknown"]
    if unknown:
        return OutcomeUnknown(
            f"SMPP submit written but not answered: {unknown[0].reason}"[:300], code="no_answer"
        )
    refused = [o for o in failed if o.kind == "status"]
    permanent = [o for o in refused if o.status not in TRANSIENT_STATUSES]
    if permanent:
        status = permanent[0].status
        return PermanentFailure(
            f"SMSC refused the text: {status_code(status)}", code=status_code(status)
        )
    if refused:
        status = refused[0].status
        return TransientFailure(
            f"SMSC refused the text for now: {status_code(status)}", code=status_code(status)
        )
    first = failed[0] if failed else _Outcome("unwritten", reason="not sent", code="link_down")
    return TransientFailure(f"SMPP: {first.reason}", code=first.code or "link_down")
