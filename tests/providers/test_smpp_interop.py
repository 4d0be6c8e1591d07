"""SmppProvider against an SMSC nobody on the team wrote: the npm `smpp` package's server mode
(tests/fakes/smpp_node_server.js), started by the test. What that package decodes from our
submit_sm must be the text we sent; what it sends us (replies, a receipt) must be understood.
The simulator in tests/fakes/smsc.py shares our reading of the specification; this does not."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import make_record
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.sms import cost
from victim_notify.providers import registry
from victim_notify.providers.base import Accepted, OutgoingMessage, TransientFailure
from victim_notify.providers.smpp import SmppProvider, SmppSettings

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tests" / "fakes" / "smpp_node_server.js"
NODE = shutil.which("node")
OUR_NUMBER = "+15205550100"
VICTIM = "+15205550134"

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed: no npm SMSC to test against"
)


class NodeSmsc:
    """The Node server as a process; its JSON lines are collected as they come."""

    def __init__(self, system_id: str, password: str) -> None:
        if not (ROOT / "node_modules" / "smpp").is_dir():
            pytest.fail("the npm package smpp is missing: run `npm ci` (scripts/install --test)")
        self.process = subprocess.Popen(
            [NODE, str(SERVER), system_id, password, VICTIM[1:], OUR_NUMBER[1:]],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self._lines: queue.Queue[dict] = queue.Queue()
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        first = self._lines.get(timeout=20)
        assert first["event"] == "listening", first
        self.port = first["port"]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            with self._lock:
                self.events.append(event)
            self._lines.put(event)

    def of(self, kind: str) -> list[dict]:
        with self._lock:
            return [e for e in self.events if e["event"] == kind]

    def wait_for(self, condition, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.05)
        return condition()

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, errors = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, errors = self.process.communicate()
        return errors


@pytest.fixture
def node_smsc():
    server = NodeSmsc("vn-interop", "s3cret")
    yield server
    errors = server.stop()
    assert not server.of("error"), (server.of("error"), errors)


@pytest.fixture
def provider(transactional_db, node_smsc, monkeypatch, settings):
    provider = SmppProvider(
        SmppSettings.from_url(
            f"smpp://vn-interop:s3cret@127.0.0.1:{node_smsc.port}?enquire_link=0.5", 5
        )
    )
    provider.receipt_retry_delays = (0.2, 0.5, 1, 2, 4)
    settings.SMS_PROVIDERS = ["smpp"]
    monkeypatch.setitem(registry.BUILDERS, "smpp", ("sms", lambda: provider))
    yield provider
    provider.close()


def message(body: str) -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "sms", VICTIM, OUR_NUMBER, "", "", "", body, "")


def texts_as_decoded(submits: list[dict]) -> list[tuple[str, int, int]]:
    """(text, data_coding, parts) per message, as the npm package decoded each part, with
    the parts of a long text joined by their UDH reference and number."""
    messages: list[tuple[str, int, int]] = []
    long: dict[str, dict[int, dict]] = {}
    for submit in submits:
        if not submit["udh"]:
            messages.append((submit["text"], submit["data_coding"], 1))
            continue
        [udh] = submit["udh"]  # one information element: 00 03 ref total number
        assert udh[:4] == "0003", udh
        reference, total, number = (int(udh[i : i + 2], 16) for i in (4, 6, 8))
        parts = long.setdefault(f"{reference}/{total}", {})
        parts[number] = submit
        if len(parts) == total:
            text = "".join(parts[n]["text"] for n in range(1, total + 1))
            messages.append((text, submit["data_coding"], total))
    return messages


def test_an_independent_smsc_decodes_what_we_send_and_we_read_what_it_sends(
    agency, provider, node_smsc
):
    from victim_notify.intake.store import IncomingRecord, ingest
    from victim_notify.replies.models import InboundMessage

    # A real notification first, through the send path: the SMSC's receipt and the replies
    # must find it.
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    while sender.send_due("w1"):
        pass
    # (The npm SMSC's replies may already have queued an automatic answer: another text.)
    note = Notification.objects.get(channel="sms", kind=MessageKind.REPORT_FILED)
    assert note.provider == "smpp" and note.provider_message_id == "N0000001"

    gsm = "Fee €5 [paid] {ref} ^ ~ | \\ @ home: report T-000901"
    ucs2 = "Zoë Núñez — report T-000902 🙂"
    long_gsm = ("Your report T-000903 was filed by Officer Dana Whitfield. " * 6)[:330]
    long_ucs2 = "Señora Zoë, su informe T-000904 🙂 " * 6
    sent = [provider.send(message(body)) for body in (gsm, ucs2, long_gsm, long_ucs2)]
    assert all(isinstance(result, Accepted) for result in sent)

    # The server's record of a part comes through its stdout, which may trail its answer to us:
    # wait for all the parts (the notice's, then 1+1+3+4).
    parts = cost(note.body).segments + 9
    assert node_smsc.wait_for(lambda: len(node_smsc.of("submit_sm")) >= parts)
    submits = node_smsc.of("submit_sm")
    decoded = texts_as_decoded(submits)
    expected = cost(note.body)
    assert decoded[0] == (note.body, 0 if expected.encoding == "GSM-7" else 8, expected.segments)
    for expected_text in [(gsm, 0, 1), (ucs2, 8, 1), (long_gsm, 0, 3), (long_ucs2, 8, 4)]:
        assert expected_text in decoded
    for submit in submits:
        assert (submit["source_addr_ton"], submit["source_addr_npi"]) == (1, 1)
        assert submit["source_addr"] == OUR_NUMBER[1:]
        assert (submit["dest_addr_ton"], submit["destination_addr"]) == (1, VICTIM[1:])
        assert submit["registered_delivery"] == 1
        assert submit["esm_class"] == (0x40 if submit["udh"] else 0)
    gsm_submit = next(s for s in submits if s["text"] == gsm)
    assert "1b65" in gsm_submit["short_message"] and gsm_submit["short_message"].count("1b") == 9
    ucs2_submit = next(s for s in submits if s["text"] == ucs2)
    assert bytes.fromhex(ucs2_submit["short_message"]) == ucs2.encode("utf-16-be")

    # What the npm SMSC sent us after the first submit: two replies and a receipt.
    assert node_smsc.wait_for(lambda: len(node_smsc.of("deliver_sm_resp")) == 3)
    assert {e["command_status"] for e in node_smsc.of("deliver_sm_resp")} == {0}
    replies = sorted(InboundMessage.objects.values_list("body", flat=True))
    assert replies == [
        "Thanks! Is case #T-000900 still open? I paid the {fee} of €20 @ the desk",
        "¿Cuándo me llaman? Gracias 🙏",
    ]
    assert set(InboundMessage.objects.values_list("report_id", flat=True)) == {note.report_id}
    # The receipt may have overtaken the record of the send, and be waiting to be tried again.
    assert node_smsc.wait_for(
        lambda: Notification.objects.get(pk=note.pk).status == Status.DELIVERED
    )
    note.refresh_from_db()
    assert note.provider_status == "DELIVRD"
    assert node_smsc.of("bind")[0]["ok"] and node_smsc.of("bind")[0]["interface_version"] == 0x34


def test_the_independent_smsc_refuses_a_wrong_password_and_nothing_is_sent(node_smsc):
    provider = SmppProvider(
        SmppSettings.from_url(
            f"smpp://vn-interop:wrong@127.0.0.1:{node_smsc.port}?reconnect_base=0.1", 0.5
        )
    )
    try:
        with pytest.raises(TransientFailure):
            provider.send(message("Nope"))
    finally:
        provider.close()
    assert node_smsc.of("bind") and not any(b["ok"] for b in node_smsc.of("bind"))
    assert node_smsc.of("submit_sm") == []
    assert "0x0D" in provider.last_bind_error
