"""A small SMSC for tests: an SMPP 3.4 server that binds transceivers, takes submit_sm,
reassembles long texts, and sends replies and delivery receipts on demand, with switches for
the faults a real SMSC produces (throttling, refused numbers, slow answers, a link that drops
mid-window, binds refused while it restarts).

Its PDU codec and GSM 03.38 table are written here with `struct`, independently of smpplib and
of the provider, so a mistake in either shows up as a disagreement::

    with Smsc(system_id="vn", password="secret") as smsc:
        provider = SmppProvider(SmppSettings.from_url(smsc.url))
        provider.send(message)
        assert smsc.messages[0].text == message.body
        smsc.send_mo("+15205550134", "+15205550100", "Thank you")
        smsc.send_receipt(smsc.messages[0].message_ids[0], stat="DELIVRD")

Or on its own, printing what it receives as JSON lines::

    python -m tests.fakes.smsc --port 2775 --system-id vn --password secret
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import signal
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Command ids (SMPP 3.4, 5.1.2.1).
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESPONSE = 0x80000000
GENERIC_NACK = 0x80000000

ROK = 0x00
RINVCMDID = 0x03
RINVBNDSTS = 0x04
RINVDSTADR = 0x0B
RBINDFAIL = 0x0D
RTHROTTLED = 0x58

# TLV tags.
TAG_RECEIPTED_MESSAGE_ID = 0x001E
TAG_SAR_MSG_REF_NUM = 0x020C
TAG_SAR_TOTAL_SEGMENTS = 0x020E
TAG_SAR_SEGMENT_SEQNUM = 0x020F
TAG_NETWORK_ERROR_CODE = 0x0423
TAG_MESSAGE_PAYLOAD = 0x0424
TAG_MESSAGE_STATE = 0x0427

MESSAGE_STATE = {
    "ENROUTE": 1,
    "DELIVRD": 2,
    "EXPIRED": 3,
    "DELETED": 4,
    "UNDELIV": 5,
    "ACCEPTD": 6,
    "UNKNOWN": 7,
    "REJECTD": 8,
}

# --- GSM 03.38, written as the differences from ASCII -------------------------------------

_GSM_NOT_ASCII = {
    0x00: "@", 0x01: "£", 0x02: "$", 0x03: "¥", 0x04: "è", 0x05: "é", 0x06: "ù", 0x07: "ì",
    0x08: "ò", 0x09: "Ç", 0x0A: "\n", 0x0B: "Ø", 0x0C: "ø", 0x0D: "\r", 0x0E: "Å", 0x0F: "å",
    0x10: "Δ", 0x11: "_", 0x12: "Φ", 0x13: "Γ", 0x14: "Λ", 0x15: "Ω", 0x16: "Π", 0x17: "Ψ",
    0x18: "Σ", 0x19: "Θ", 0x1A: "Ξ", 0x1C: "Æ", 0x1D: "æ", 0x1E: "ß", 0x1F: "É", 0x24: "¤",
    0x40: "¡", 0x5B: "Ä", 0x5C: "Ö", 0x5D: "Ñ", 0x5E: "Ü", 0x5F: "§", 0x60: "¿", 0x7B: "ä",
    0x7C: "ö", 0x7D: "ñ", 0x7E: "ü", 0x7F: "à",
}  # fmt: skip
GSM_DECODE = {code: _GSM_NOT_ASCII.get(code, chr(code)) for code in range(128) if code != 0x1B}
GSM_ESCAPED = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D,
               "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
GSM_ENCODE = {ch: code for code, ch in GSM_DECODE.items()}


def gsm_units(text: str) -> list[bytes] | None:
    """Each character's septets (unpacked), or None when one has no GSM code."""
    units = []
    for ch in text:
        if ch in GSM_ENCODE:
            units.append(bytes([GSM_ENCODE[ch]]))
        elif ch in GSM_ESCAPED:
            units.append(bytes([0x1B, GSM_ESCAPED[ch]]))
        else:
            return None
    return units


def gsm_decode(data: bytes) -> str:
    escaped_by_code = {code: ch for ch, code in GSM_ESCAPED.items()}
    out, escape = [], False
    for octet in data:
        if escape:
            out.append(escaped_by_code.get(octet, GSM_DECODE.get(octet, "?")))
            escape = False
        elif octet == 0x1B:
            escape = True
        else:
            out.append(GSM_DECODE.get(octet, "?"))
    return "".join(out)


def decode(data: bytes, data_coding: int) -> str:
    if data_coding == 0x08:
        return data.decode("utf-16-be")  # strict: a split surrogate pair must fail the test
    if data_coding == 0x00:
        return gsm_decode(data)
    return data.decode("latin-1")


# --- PDU codec ------------------------------------------------------------------------------


def pdu(command_id: int, seq: int, body: bytes = b"", status: int = ROK) -> bytes:
    return struct.pack(">LLLL", 16 + len(body), command_id, status, seq) + body


def cstring(value: str) -> bytes:
    return value.encode("latin-1") + b"\0"


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def cstring(self) -> str:
        end = self.data.index(b"\0", self.pos)
        value = self.data[self.pos : end].decode("latin-1")
        self.pos = end + 1
        return value

    def int8(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def octets(self, size: int) -> bytes:
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value

    def tlvs(self) -> dict[int, bytes]:
        found = {}
        while self.pos + 4 <= len(self.data):
            tag, size = struct.unpack(">HH", self.data[self.pos : self.pos + 4])
            found[tag] = self.data[self.pos + 4 : self.pos + 4 + size]
            self.pos += 4 + size
        return found


def read_pdu(sock: socket.socket) -> tuple[int, int, int, bytes]:
    head = _exactly(sock, 16)
    length, command_id, status, seq = struct.unpack(">LLLL", head)
    return command_id, status, seq, _exactly(sock, length - 16)


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


# --- What the SMSC saw ----------------------------------------------------------------------


@dataclass
class Submit:
    """One submit_sm as received, with how it was answered."""

    connection: int
    seq: int
    source_addr: str
    source_ton: int
    source_npi: int
    destination_addr: str
    dest_ton: int
    dest_npi: int
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    tlvs: dict[int, bytes]
    user_data: bytes = b""  # short_message without its UDH
    udh: bytes = b""
    reference: int | None = None
    total: int = 1
    number: int = 1
    status: int | None = None  # the command_status answered (None: not answered yet, or never)
    message_id: str = ""  # set when accepted
    received_at: float = 0.0


@dataclass
class Message:
    """A text as the SMSC would deliver it: every accepted part, joined in order."""

    source_addr: str
    destination_addr: str
    data_coding: int
    reference: int | None
    parts: list[Submit]

    @property
    def text(self) -> str:
        return decode(b"".join(p.user_data for p in self.parts), self.data_coding)

    @property
    def message_ids(self) -> list[str]:
        return [p.message_id for p in self.parts]


@dataclass
class _Connection:
    id: int
    sock: socket.socket
    lock: threading.Lock = field(default_factory=threading.Lock)
    bound: bool = False
    unanswered: int = 0
    drop_countdown: int | None = None
    held: list[tuple[int, str]] = field(default_factory=list)  # (seq, message_id)

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class Smsc:
    def __init__(
        self,
        system_id: str = "victimnotify",
        password: str = "secret",
        host: str = "127.0.0.1",
        port: int = 0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.system_id = system_id
        self.password = password
        self.host = host
        self.port = port
        self.on_event = on_event
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._connections: dict[int, _Connection] = {}
        self._connection_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._message_numbers = itertools.count(1)
        self._prefix = uuid.uuid4().hex[:6].upper()
        # What happened.
        self.submits: list[Submit] = []
        self.messages: list[Message] = []
        self.duplicate_parts: list[Submit] = []
        self.bind_attempts: list[tuple[float, str, bool]] = []
        self.enquire_links = 0
        self.enquire_link_resps = 0
        self.deliver_responses: dict[int, int] = {}  # our deliver_sm seq -> their status
        self.max_unanswered = 0
        self._parts: dict[tuple[str, str, int, int], dict[int, Submit]] = {}
        self._by_seq: dict[tuple[int, int], Submit] = {}
        # Faults.
        self.throttle_remaining = 0
        self.reject_destinations: set[str] = set()
        self.hold_responses = False
        self.refuse_binds_remaining = 0
        self.refuse_binds_until = 0.0
        self.answer_enquire_link = True
        self._drop_after: int | None = None

    # Life -------------------------------------------------------------------------------------

    def start(self) -> Smsc:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Close the port and every link, as an SMSC that goes away does."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)  # shutdown wakes the accept() blocked in another thread
        self.drop_links()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> Smsc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"smpp://{self.system_id}:{self.password}@{self.host}:{self.port}"

    def drop_links(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
        for connection in connections:
            _close(connection.sock)

    # Switches -----------------------------------------------------------------------------------

    def throttle_next(self, count: int) -> None:
        with self._lock:
            self.throttle_remaining = count

    def refuse_binds(self, count: int = 0, seconds: float = 0.0) -> None:
        with self._lock:
            self.refuse_binds_remaining = count
            self.refuse_binds_until = time.monotonic() + seconds if seconds else 0.0

    def drop_after(self, count: int) -> None:
        """Take the next `count` submits without answering them, then drop the link: the
        client's window is full of submits whose fate it cannot know."""
        with self._lock:
            self._drop_after = count

    def release(self) -> None:
        """Answer every held submit and stop holding."""
        with self._lock:
            self.hold_responses = False
            connections = list(self._connections.values())
        for connection in connections:
            with self._lock:
                held, connection.held = connection.held, []
            for seq, message_id in held:
                self._answer_submit(connection, seq, ROK, message_id)

    # Observations -------------------------------------------------------------------------------

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.05))
        return True

    @property
    def bound(self) -> int:
        with self._lock:
            return sum(1 for c in self._connections.values() if c.bound)

    @property
    def unanswered(self) -> int:
        with self._lock:
            return sum(c.unanswered for c in self._connections.values())

    def accepted(self) -> list[Submit]:
        with self._lock:
            return [s for s in self.submits if s.message_id]

    # To the client -------------------------------------------------------------------------------

    def send_mo(
        self,
        from_: str,
        to: str,
        text: str,
        *,
        data_coding: int | None = None,
        part_size: int | None = None,
        concat: str = "udh8",
        reference: int = 42,
    ) -> list[int]:
        """A text from a phone (`from_`) to our number (`to`), in as many deliver_sm as it
        needs. Returns their sequence numbers; answers land in `deliver_responses`."""
        if data_coding is None:
            data_coding = 0x00 if gsm_units(text) is not None else 0x08
        if data_coding == 0x00:
            units = gsm_units(text)
            assert units is not None, "text has characters outside GSM 03.38"
            single, size = 160, part_size or 153
        elif data_coding == 0x08:
            units = [ch.encode("utf-16-be") for ch in text]
            single, size = 140, (part_size or 67) * 2
        else:
            units = [ch.encode("latin-1") for ch in text]
            single, size = 140, part_size or 134
        chunks: list[bytes] = []
        if part_size is None and sum(len(u) for u in units) <= single:
            chunks = [b"".join(units)]
        else:
            current = b""
            for unit in units:
                if len(current) + len(unit) > size:
                    chunks.append(current)
                    current = b""
                current += unit
            chunks.append(current)
        source, destination = _smpp_address(from_), _smpp_address(to)
        seqs = []
        for number, chunk in enumerate(chunks, start=1):
            esm_class, extra, short_message = 0x00, b"", chunk
            if len(chunks) > 1:
                if concat == "udh8":
                    esm_class = 0x40
                    short_message = bytes([5, 0, 3, reference, len(chunks), number]) + chunk
                elif concat == "udh16":
                    esm_class = 0x40
                    ref = reference.to_bytes(2, "big")
                    short_message = bytes([6, 8, 4, *ref, len(chunks), number]) + chunk
                else:  # SAR TLVs
                    extra = (
                        tlv(TAG_SAR_MSG_REF_NUM, reference.to_bytes(2, "big"))
                        + tlv(TAG_SAR_TOTAL_SEGMENTS, bytes([len(chunks)]))
                        + tlv(TAG_SAR_SEGMENT_SEQNUM, bytes([number]))
                    )
            seqs.append(
                self._deliver(source, destination, esm_class, data_coding, short_message, extra)
            )
        return seqs

    def send_receipt(
        self,
        message_id: str,
        stat: str = "DELIVRD",
        err: str = "000",
        *,
        with_text: bool = True,
        with_tlvs: bool = True,
    ) -> int:
        """A delivery receipt for a message this SMSC accepted, as most SMSCs write one: the
        Appendix B text and the receipted_message_id / message_state TLVs."""
        with self._lock:
            submit = next(s for s in self.submits if s.message_id == message_id)
        now = dt.datetime.now(dt.UTC).strftime("%y%m%d%H%M")
        delivered = "001" if stat == "DELIVRD" else "000"
        quoted = decode(submit.user_data, submit.data_coding)[:20]
        text = ""
        if with_text:
            text = (
                f"id:{message_id} sub:001 dlvrd:{delivered} submit date:{now} done date:{now} "
                f"stat:{stat} err:{err} text:{quoted}"
            )
        extra = b""
        if with_tlvs:
            extra += tlv(TAG_RECEIPTED_MESSAGE_ID, cstring(message_id))
            extra += tlv(TAG_MESSAGE_STATE, bytes([MESSAGE_STATE.get(stat, 7)]))
            if err.strip("0"):
                extra += tlv(TAG_NETWORK_ERROR_CODE, bytes([3]) + int(err).to_bytes(2, "big"))
        source = (submit.dest_ton, submit.dest_npi, submit.destination_addr)
        destination = (submit.source_ton, submit.source_npi, submit.source_addr)
        return self._deliver(source, destination, 0x04, 0x00, text.encode("latin-1"), extra)

    def send_enquire_link(self) -> int:
        seq = next(self._seq)
        self._bound_connection().send(pdu(ENQUIRE_LINK, seq))
        return seq

    def _deliver(
        self,
        source: tuple[int, int, str],
        destination: tuple[int, int, str],
        esm_class: int,
        data_coding: int,
        short_message: bytes,
        extra: bytes = b"",
    ) -> int:
        body = (
            cstring("")
            + bytes(source[:2])
            + cstring(source[2])
            + bytes(destination[:2])
            + cstring(destination[2])
            + bytes([esm_class, 0, 0])
            + cstring("")
            + cstring("")
            + bytes([0, 0, data_coding, 0, len(short_message)])
            + short_message
            + extra
        )
        seq = next(self._seq)
        self._bound_connection().send(pdu(DELIVER_SM, seq, body))
        return seq

    def _bound_connection(self) -> _Connection:
        with self._lock:
            bound = [c for c in self._connections.values() if c.bound]
        if not bound:
            raise RuntimeError("no client is bound")
        return bound[-1]

    # Serving ------------------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(next(self._connection_ids), sock)
            with self._lock:
                self._connections[connection.id] = connection
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: _Connection) -> None:
        try:
            while True:
                command_id, status, seq, body = read_pdu(connection.sock)
                if not self._handle(connection, command_id, status, seq, body):
                    break
        except (OSError, EOFError):
            pass
        finally:
            _close(connection.sock)
            with self._changed:
                self._connections.pop(connection.id, None)
                self._changed.notify_all()

    def _event(self, **event: Any) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _handle(
        self, connection: _Connection, command_id: int, status: int, seq: int, body: bytes
    ) -> bool:
        if command_id == BIND_TRANSCEIVER:
            return self._bind(connection, seq, body)
        if command_id in (BIND_TRANSMITTER, BIND_RECEIVER):
            connection.send(pdu(command_id | RESPONSE, seq, status=RBINDFAIL))
            return False
        if command_id == ENQUIRE_LINK:
            with self._changed:
                self.enquire_links += 1
                self._changed.notify_all()
            if self.answer_enquire_link:
                connection.send(pdu(ENQUIRE_LINK | RESPONSE, seq))
            return True
        if command_id == ENQUIRE_LINK | RESPONSE:
            with self._changed:
                self.enquire_link_resps += 1
                self._changed.notify_all()
            return True
        if command_id == DELIVER_SM | RESPONSE:
            with self._changed:
                self.deliver_responses[seq] = status
                self._changed.notify_all()
            return True
        if command_id == UNBIND:
            connection.send(pdu(UNBIND | RESPONSE, seq))
            return False
        if command_id == SUBMIT_SM:
            if not connection.bound:
                connection.send(pdu(SUBMIT_SM | RESPONSE, seq, status=RINVBNDSTS))
                return True
            return self._submit(connection, seq, body)
        if command_id & RESPONSE:
            return True
        connection.send(pdu(GENERIC_NACK, seq, status=RINVCMDID))
        return True

    def _bind(self, connection: _Connection, seq: int, body: bytes) -> bool:
        reader = _Body(body)
        system_id, password = reader.cstring(), reader.cstring()
        with self._changed:
            refused = self.refuse_binds_remaining > 0 or time.monotonic() < self.refuse_binds_until
            if self.refuse_binds_remaining > 0:
                self.refuse_binds_remaining -= 1
            ok = not refused and (system_id, password) == (self.system_id, self.password)
            self.bind_attempts.append((time.monotonic(), system_id, ok))
            self._changed.notify_all()
        if not ok:
            connection.send(pdu(BIND_TRANSCEIVER | RESPONSE, seq, status=RBINDFAIL))
            return False
        connection.send(pdu(BIND_TRANSCEIVER | RESPONSE, seq, cstring("SIMSMSC")))
        with self._changed:
            connection.bound = True
            self._changed.notify_all()
        self._event(event="bind", system_id=system_id)
        return True

    def _submit(self, connection: _Connection, seq: int, body: bytes) -> bool:
        reader = _Body(body)
        reader.cstring()  # service_type
        source_ton, source_npi, source = reader.int8(), reader.int8(), reader.cstring()
        dest_ton, dest_npi, destination = reader.int8(), reader.int8(), reader.cstring()
        esm_class = reader.int8()
        reader.int8(), reader.int8()  # protocol_id, priority_flag
        reader.cstring(), reader.cstring()  # schedule_delivery_time, validity_period
        registered_delivery = reader.int8()
        reader.int8()  # replace_if_present_flag
        data_coding = reader.int8()
        reader.int8()  # sm_default_msg_id
        short_message = reader.octets(reader.int8())
        tlvs = reader.tlvs()
        submit = Submit(
            connection=connection.id,
            seq=seq,
            source_addr=source,
            source_ton=source_ton,
            source_npi=source_npi,
            destination_addr=destination,
            dest_ton=dest_ton,
            dest_npi=dest_npi,
            esm_class=esm_class,
            registered_delivery=registered_delivery,
            data_coding=data_coding,
            short_message=short_message or tlvs.get(TAG_MESSAGE_PAYLOAD, b""),
            tlvs=tlvs,
            received_at=time.monotonic(),
        )
        _read_concatenation(submit)
        with self._changed:
            self.submits.append(submit)
            self._by_seq[(connection.id, seq)] = submit
            connection.unanswered += 1
            self.max_unanswered = max(self.max_unanswered, connection.unanswered)
            if self._drop_after is not None:
                connection.drop_countdown, self._drop_after = self._drop_after, None
            if connection.drop_countdown is not None:
                self._accept_submit(submit)
                connection.drop_countdown -= 1
                if connection.drop_countdown <= 0:
                    self._changed.notify_all()
                    return False  # the link drops with every one of these unanswered
                self._changed.notify_all()
                return True
            if self.throttle_remaining > 0:
                self.throttle_remaining -= 1
                answer = RTHROTTLED
            elif {destination, f"+{destination}"} & self.reject_destinations:
                answer = RINVDSTADR
            else:
                answer = ROK
                self._accept_submit(submit)
                if self.hold_responses:
                    connection.held.append((seq, submit.message_id))
                    self._changed.notify_all()
                    return True
            submit.status = answer
            self._changed.notify_all()
        self._event(
            event="submit_sm",
            status=answer,
            data_coding=data_coding,
            short_message=short_message.hex(),
            text=decode(submit.user_data, data_coding) if data_coding in (0, 8) else None,
            part=f"{submit.number}/{submit.total}",
            message_id=submit.message_id,
        )
        self._answer_submit(connection, seq, answer, submit.message_id)
        return True

    def _accept_submit(self, submit: Submit) -> None:
        """Called with the lock held: give the part an id and file it with its siblings."""
        submit.message_id = f"{self._prefix}{next(self._message_numbers):06d}"
        if submit.reference is None:
            self.messages.append(_message([submit]))
            return
        key = (submit.source_addr, submit.destination_addr, submit.reference, submit.total)
        parts = self._parts.setdefault(key, {})
        if submit.number in parts:
            self.duplicate_parts.append(submit)
            return
        parts[submit.number] = submit
        if len(parts) == submit.total:
            del self._parts[key]
            ordered = [parts[n] for n in sorted(parts)]
            self.messages.append(_message(ordered))

    def _answer_submit(
        self, connection: _Connection, seq: int, status: int, message_id: str
    ) -> None:
        # Counted as answered before the answer leaves: the client may submit again at once.
        with self._changed:
            connection.unanswered -= 1
            submit = self._by_seq.get((connection.id, seq))
            if submit is not None:
                submit.status = status
            self._changed.notify_all()
        body = cstring(message_id) if status == ROK else b""
        try:
            connection.send(pdu(SUBMIT_SM | RESPONSE, seq, body, status))
        except OSError:
            pass


def _message(parts: list[Submit]) -> Message:
    first = parts[0]
    return Message(
        first.source_addr, first.destination_addr, first.data_coding, first.reference, parts
    )


def _read_concatenation(submit: Submit) -> None:
    data = submit.short_message
    submit.user_data = data
    if submit.esm_class & 0x40 and data:
        length = data[0]
        submit.udh, submit.user_data = data[1 : 1 + length], data[1 + length :]
        pos = 0
        while pos + 2 <= len(submit.udh):
            iei, size = submit.udh[pos], submit.udh[pos + 1]
            value = submit.udh[pos + 2 : pos + 2 + size]
            if iei == 0x00:
                submit.reference, submit.total, submit.number = value[0], value[1], value[2]
            elif iei == 0x08:
                submit.reference = int.from_bytes(value[:2], "big")
                submit.total, submit.number = value[2], value[3]
            pos += 2 + size
    elif TAG_SAR_MSG_REF_NUM in submit.tlvs:
        submit.reference = int.from_bytes(submit.tlvs[TAG_SAR_MSG_REF_NUM], "big")
        submit.total = submit.tlvs[TAG_SAR_TOTAL_SEGMENTS][0]
        submit.number = submit.tlvs[TAG_SAR_SEGMENT_SEQNUM][0]


def _smpp_address(value: str) -> tuple[int, int, str]:
    if value.startswith("+"):
        return 1, 1, value[1:]
    return 0, 1, value


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A small SMSC (SMPP 3.4) for local testing.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2775)
    parser.add_argument("--system-id", default="victimnotify")
    parser.add_argument("--password", default="secret")
    args = parser.parse_args(argv)

    def show(event: dict[str, Any]) -> None:
        print(json.dumps(event), flush=True)

    smsc = Smsc(args.system_id, args.password, args.host, args.port, on_event=show)
    smsc.start()
    show({"event": "listening", "url": smsc.url})
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()
    smsc.stop()


if __name__ == "__main__":
    main()
