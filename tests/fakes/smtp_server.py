"""A real SMTP server (aiosmtpd) for tests, recording every message it accepts, with switches
for the failures a real server produces: 4xx and 5xx answers, hanging, dropping the line."""

from __future__ import annotations

import asyncio
import email
import threading
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Behaviour:
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 No such user" for every recipient
    data_reply: str | None = None  # e.g. "451 4.3.0 Try later"
    hang_seconds: float = 0.0  # take the message, then wait this long before answering DATA
    drop_after_data: bool = False  # close the connection instead of answering DATA
    reject_recipients: set[str] = field(default_factory=set)  # "550 5.1.1" for these only
    # How many more messages the DATA faults above (data_reply, hang_seconds, drop_after_data)
    # apply to; None: every one. A server that answers 451 for a while, then recovers.
    times: int | None = None


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        behaviour = self.server.behaviour
        if address in behaviour.reject_recipients:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if behaviour.rcpt_reply:
            return behaviour.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        behaviour = self.server.behaviour
        if not self.server.take_fault():
            self.server.record(envelope)
            return "250 2.0.0 Ok: queued"
        recorded = False
        if behaviour.hang_seconds:
            if not behaviour.data_reply:
                # It has the whole message; only its answer is late (a stuck queue or filter).
                self.server.record(envelope)
                recorded = True
            await asyncio.sleep(behaviour.hang_seconds)
        if behaviour.drop_after_data:
            if not recorded:
                self.server.record(envelope)  # it got the whole message, then the line dropped
            server.transport.close()
            return "421 closing"
        if behaviour.data_reply:
            return behaviour.data_reply
        if recorded:
            return "250 2.0.0 Ok: queued"
        self.server.record(envelope)
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.behaviour = Behaviour()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._address = (host, port or _free_port(host))
        self.controller = Controller(_Handler(self), hostname=host, port=self._address[1])
        self._stopped = False

    @property
    def url(self) -> str:
        return f"smtp://{self.controller.hostname}:{self.controller.port}"

    def record(self, envelope: Any) -> None:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw)
            )  # type: ignore[arg-type]

    def take_fault(self) -> bool:
        """Whether this message meets the DATA faults (counting it against `times`)."""
        with self._lock:
            if self.behaviour.times is None:
                return True
            if self.behaviour.times <= 0:
                return False
            self.behaviour.times -= 1
            return True

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(r.message["Message-ID"]) for r in self.received]

    def start(self) -> SmtpServer:
        """Listen; after `stop()`, listen again on the same port (an outage that ends)."""
        if self._stopped:
            host, port = self._address
            self.controller = Controller(_Handler(self), hostname=host, port=port)
            self._stopped = False
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut the open connections."""
        self.controller.stop()
        self._stopped = True

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main() -> None:
    """Run on its own (for benchmarks): every accepted message appends one JSON line to --log
    with its Message-ID, Subject, recipients and the time it was accepted."""
    import argparse
    import json
    import signal
    import time

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()

    log = open(args.log, "a", buffering=1, encoding="utf-8")

    class Logging(SmtpServer):
        def record(self, envelope: Any) -> None:
            # Headers only, unfolded, without the email package: a benchmark's mail server
            # should cost about what a real one does, not parse every message in Python.
            raw = envelope.original_content or envelope.content
            head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
            fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n") if b": " in line)
            subject = fields.get(b"Subject", b"").decode("utf-8", "replace")
            if "=?" in subject:
                subject = str(make_header(decode_header(subject)))
            entry = {
                "message_id": fields.get(b"Message-ID", b"").decode(),
                "subject": subject,
                "to": envelope.rcpt_tos,
                "at": time.time(),
            }
            log.write(json.dumps(entry) + "\n")

    server = Logging(port=args.port).start()
    print(f"listening on {server.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
