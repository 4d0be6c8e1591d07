"""The SMPP provider against the SMSC simulator in tests/fakes/smsc.py, over a real TCP link:
encodings and concatenation, windowing, keep-alive, faults and reconnects, and the replies and
receipts that come back through the database."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from tests.conftest import make_record
from tests.fakes.smsc import Smsc
from victim_notify.messages import sender
from victim_notify.messages.models import DeliveryEvent, MessageKind, Notification, Status
from victim_notify.messages.sms import GSM_BASIC, GSM_EXTENSION, cost
from victim_notify.providers import registry
from victim_notify.providers.base import (
    Accepted,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentFailure,
    TransientFailure,
)
from victim_notify.providers.smpp import SmppProvider, SmppSettings
from victim_notify.providers.smpp_codec import (
    GSM_BASIC_TABLE,
    GSM_EXTENSION_TABLE,
    decode_text,
    e164_from_smpp,
    encode_text,
    parse_receipt,
    smpp_address,
    split_udh,
)

OUR_NUMBER = "+15205550100"  # the test agency's sms_from
VICTIM = "+15205550134"  # make_record()'s victim


def message(body: str, to: str = VICTIM) -> OutgoingMessage:
    return OutgoingMessage(
        notification_id=uuid.uuid4(),
        channel="sms",
        to=to,
        sender=OUR_NUMBER,
        sender_name="Testville Police Department",
        reply_to="",
        subject="",
        body=body,
        html="",
    )


def connect(smsc: Smsc, **options: object) -> SmppProvider:
    query = {
        "timeout": 3,
        "enquire_link": 30,
        "reconnect_base": 0.05,
        "reconnect_max": 0.5,
        "throttle_pause": 0.05,
    }
    query.update(options)
    return SmppProvider(SmppSettings.from_url(f"{smsc.url}?{urlencode(query)}"))


@pytest.fixture
def smsc():
    with Smsc(system_id="vn-test", password="s3cret") as running:
        yield running


@pytest.fixture
def provider(smsc):
    provider = connect(smsc)
    yield provider
    provider.close()


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# --- What goes on the wire ------------------------------------------------------------------


def test_short_gsm_text_is_one_submit_in_the_default_alphabet(provider, smsc):
    body = "Testville Police: report T-000123 was filed. Questions? Call (520) 555-0100 @ any time."
    accepted = provider.send(message(body))

    [submit] = smsc.submits
    assert (submit.data_coding, submit.esm_class, submit.registered_delivery) == (0, 0, 1)
    assert (submit.source_ton, submit.source_npi, submit.source_addr) == (1, 1, "15205550100")
    assert (submit.dest_ton, submit.dest_npi, submit.destination_addr) == (1, 1, "15205550134")
    assert submit.short_message[body.index("@")] == 0x00  # GSM 03.38 "@", not ASCII 0x40
    assert smsc.messages[0].text == body
    assert accepted == Accepted(submit.message_id, "accepted")


def test_extension_characters_travel_as_escape_pairs(provider, smsc):
    body = "Fee €5 [paid] {ref} ^ ~ | \\ done"
    provider.send(message(body))

    [submit] = smsc.submits
    assert submit.data_coding == 0
    assert b"\x1b\x65" in submit.short_message  # €
    assert b"\x1b\x3c" in submit.short_message and b"\x1b\x3e" in submit.short_message  # [ ]
    assert len(submit.short_message) == len(body) + 9  # nine characters take two septets
    assert smsc.messages[0].text == body


def test_text_outside_gsm_goes_as_ucs2(provider, smsc):
    body = "Zoë Núñez: ñá — your report T-000124 🙂"
    provider.send(message(body))

    [submit] = smsc.submits
    assert submit.data_coding == 8
    assert submit.short_message == body.encode("utf-16-be")
    assert smsc.messages[0].text == body


def test_long_gsm_text_goes_in_three_parts_with_one_reference(provider, smsc):
    body = ("Your report T-000125 was filed by Officer Dana Whitfield. " * 7)[:400]
    accepted = provider.send(message(body))

    parts = smsc.submits
    assert [len(p.user_data) for p in parts] == [153, 153, 94]
    assert {p.esm_class for p in parts} == {0x40}
    reference = parts[0].reference
    assert [p.udh for p in parts] == [bytes([0, 3, reference, 3, n]) for n in (1, 2, 3)]
    [received] = smsc.messages
    assert received.text == body
    assert accepted.provider_message_id == parts[0].message_id


def test_an_escape_pair_is_never_split_between_parts(provider, smsc):
    body = "a" * 152 + "€" + "b" * 20
    provider.send(message(body))

    first, second = smsc.submits
    assert first.user_data == b"a" * 152  # the € did not fit whole: it starts part two
    assert second.user_data.startswith(b"\x1b\x65")
    assert smsc.messages[0].text == body


def test_long_ucs2_text_goes_in_parts_of_67_units(provider, smsc):
    body = "ë" * 200
    provider.send(message(body))

    assert [len(p.user_data) // 2 for p in smsc.submits] == [67, 67, 66]
    assert {p.data_coding for p in smsc.submits} == {8}
    assert smsc.messages[0].text == body


def test_a_surrogate_pair_is_never_split_between_parts(provider, smsc):
    body = "ë" * 66 + "🙂" + "ë" * 10
    provider.send(message(body))

    first, second = smsc.submits
    assert len(first.user_data) == 66 * 2
    assert second.user_data.decode("utf-16-be").startswith("🙂")  # strict: whole pair
    assert smsc.messages[0].text == body


def test_references_differ_between_long_texts(provider, smsc):
    provider.send(message("x" * 200))
    provider.send(message("y" * 200))
    assert len({m.reference for m in smsc.messages}) == 2


# --- Windowing and keep-alive ----------------------------------------------------------------


def test_no_more_than_the_window_is_in_flight_and_all_go_once_released(smsc):
    provider = connect(smsc, window=3, timeout=10)
    smsc.hold_responses = True
    results = []
    sending = threading.Thread(
        target=lambda: results.extend(provider.send_many(message(f"Text {i}") for i in range(8)))
    )
    sending.start()
    try:
        assert smsc.wait_for(lambda: smsc.unanswered == 3)
        time.sleep(0.3)  # room for a fourth, were the window not kept
        assert len(smsc.submits) == 3
        smsc.release()
        sending.join(timeout=10)
    finally:
        provider.close()

    assert len(results) == 8 and all(isinstance(r, Accepted) for _, r in results)
    assert smsc.max_unanswered == 3
    assert sorted(m.text for m in smsc.messages) == sorted(f"Text {i}" for i in range(8))


def test_send_many_keeps_the_window_full(smsc):
    provider = connect(smsc, window=4)
    try:
        results = list(provider.send_many(message(f"Text {i}") for i in range(60)))
    finally:
        provider.close()
    assert all(isinstance(r, Accepted) for _, r in results)
    assert len({r.provider_message_id for _, r in results}) == 60
    assert 1 <= smsc.max_unanswered <= 4


def test_enquire_link_keeps_a_quiet_link_alive(smsc):
    provider = connect(smsc, enquire_link=0.2)
    try:
        provider.start()
        assert smsc.wait_for(lambda: smsc.enquire_links >= 3)
        seq = smsc.send_enquire_link()  # and the SMSC's own are answered
        assert smsc.wait_for(lambda: smsc.enquire_link_resps >= 1), seq
        assert provider.binds == 1 and provider.link_up
    finally:
        provider.close()


def test_unanswered_enquire_link_drops_the_link_and_binds_again(smsc):
    smsc.answer_enquire_link = False
    provider = connect(smsc, enquire_link=0.2, timeout=0.5)
    try:
        provider.start()
        assert wait_until(lambda: provider.binds >= 2)
    finally:
        provider.close()


# --- Faults ------------------------------------------------------------------------------------


def test_throttled_submit_is_a_transient_failure(provider, smsc):
    smsc.throttle_next(1)
    with pytest.raises(TransientFailure) as failure:
        provider.send(message("Report T-000126"))
    assert failure.value.code == "0x58"
    provider.send(message("Report T-000126"))
    assert [m.text for m in smsc.messages] == ["Report T-000126"]


@pytest.mark.parametrize(("status", "code"), [(0x14, "0x14"), (0x08, "0x08")])
def test_queue_full_and_system_error_are_transient(provider, smsc, status, code, monkeypatch):
    import tests.fakes.smsc as fake

    monkeypatch.setattr(fake, "RTHROTTLED", status)
    smsc.throttle_next(1)
    with pytest.raises(TransientFailure) as failure:
        provider.send(message("Report T-000127"))
    assert failure.value.code == code


def test_invalid_destination_is_a_permanent_failure(provider, smsc):
    smsc.reject_destinations.add("+15205550199")
    with pytest.raises(PermanentFailure) as failure:
        provider.send(message("Report T-000128", to="+15205550199"))
    assert failure.value.code == "0x0B"
    assert smsc.messages == []


def test_a_throttled_part_of_a_long_text_is_sent_again_under_the_same_reference(provider, smsc):
    smsc.throttle_next(1)  # the first part is refused, the two after it are taken
    body = "z" * 400
    accepted = provider.send(message(body))

    [received] = smsc.messages
    assert received.text == body and smsc.duplicate_parts == []
    assert accepted.provider_message_id == received.message_ids[0]
    assert [s.status for s in smsc.submits] == [0x58, 0, 0, 0]


def test_link_dropped_mid_window_leaves_written_submits_unknown_and_sends_nothing_twice(smsc):
    provider = connect(smsc, window=3, timeout=5)
    smsc.drop_after(3)
    bodies = [f"Report T-00020{i}" for i in range(5)]
    try:
        results = dict((m.body, r) for m, r in provider.send_many(message(body) for body in bodies))
    finally:
        provider.close()

    unknown = [b for b, r in results.items() if isinstance(r, OutcomeUnknown)]
    accepted = [b for b, r in results.items() if isinstance(r, Accepted)]
    assert sorted(unknown) == bodies[:3]  # written, never answered: a person decides
    assert sorted(accepted) == bodies[3:]  # never written before the drop: sent on the new link
    assert all(results[b].code == "no_answer" for b in unknown)
    texts = [decode_text(s.user_data, s.data_coding) for s in smsc.submits]
    assert sorted(texts) == bodies  # each submitted exactly once
    assert provider.binds == 2


class _SendFailsOnce:
    """A socket whose next write fails, as one does when the line broke under it."""

    def __init__(self, sock):
        self._sock = sock
        self.failed = False

    def sendall(self, data):
        if not self.failed:
            self.failed = True
            raise BrokenPipeError("line broke")
        return self._sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self._sock, name)


def test_a_submit_whose_write_failed_goes_once_on_the_next_link(provider, smsc):
    provider.start()
    assert wait_until(lambda: provider.link_up)
    broken = _SendFailsOnce(provider._session.sock)
    provider._session.sock = broken

    accepted = provider.send(message("Report T-000300"))

    assert broken.failed and provider.binds == 2
    assert [m.text for m in smsc.messages] == ["Report T-000300"]
    assert accepted.provider_message_id == smsc.messages[0].message_ids[0]


def test_link_down_before_writing_is_transient_and_reconnects_when_the_smsc_is_back(smsc):
    provider = connect(smsc, timeout=0.5)
    try:
        provider.send(message("Before"))
        smsc.stop()
        # Written before the provider sees the drop, a submit would be OutcomeUnknown.
        assert wait_until(lambda: not provider.link_up)
        with pytest.raises(TransientFailure) as failure:
            provider.send(message("While down"))
        assert failure.value.code == "link_down"
        smsc.start()  # same port
        assert wait_until(lambda: provider.link_up)
        provider.send(message("After"))
    finally:
        provider.close()
    assert [m.text for m in smsc.messages] == ["Before", "After"]
    assert provider.binds == 2


def test_refused_binds_are_retried_with_growing_pauses(smsc):
    smsc.refuse_binds(count=4)
    provider = connect(smsc, reconnect_base=0.1, reconnect_max=5)
    try:
        provider.start()
        assert wait_until(lambda: provider.link_up, timeout=10)
    finally:
        provider.close()
    times = [at for at, _, _ in smsc.bind_attempts]
    assert [ok for _, _, ok in smsc.bind_attempts] == [False] * 4 + [True]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # Equal jitter: each pause is between half and all of a step that doubles (0.1, 0.2, 0.4,
    # 0.8 s), so the least each can be grows; the most is loose, as a busy machine adds to it.
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2 and gaps[3] >= 0.4
    assert gaps[0] < 1
    assert "0x0D" in provider.last_bind_error


def test_wrong_password_never_binds_and_sends_fail_as_transient(smsc):
    url = smsc.url.replace(":s3cret@", ":wrong@")
    provider = SmppProvider(SmppSettings.from_url(f"{url}?timeout=0.5&reconnect_base=0.05"))
    try:
        with pytest.raises(TransientFailure) as failure:
            provider.send(message("Nope"))
    finally:
        provider.close()
    assert failure.value.code == "link_down"
    assert smsc.submits == [] and smsc.bind_attempts
    assert not any(ok for _, _, ok in smsc.bind_attempts)


# --- Settings -------------------------------------------------------------------------------


def test_smpp_url_is_read():
    config = SmppSettings.from_url(
        "smpp://vn:p%40ss@smsc.example:2776?system_type=VMA&source_ton=5&source_npi=0"
        "&window=20&enquire_link=45",
        7,
    )
    assert (config.host, config.port, config.system_id, config.password) == (
        "smsc.example",
        2776,
        "vn",
        "p@ss",
    )
    assert (config.system_type, config.source_ton, config.source_npi) == ("VMA", 5, 0)
    assert (config.window, config.enquire_link, config.timeout) == (20, 45.0, 7)
    assert SmppSettings.from_url("smpp://vn:pw@smsc.example").port == 2775


@pytest.mark.parametrize(
    "url",
    [
        "http://vn:pw@smsc.example",
        "smpp://smsc.example",  # no system_id
        "smpp://vn:pw@smsc.example?windw=3",
        "smpp://vn:pw@smsc.example?window=0",
        "smpp://vn:pw@smsc.example?window=ten",
        "smpp://vn:ninechars@smsc.example",  # SMPP passwords are at most 8 characters
    ],
)
def test_bad_smpp_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        SmppSettings.from_url(url)


def test_from_settings_reads_smpp_url(settings):
    settings.SMPP_URL = "smpp://vn:pw@127.0.0.1:2999?window=4"
    settings.PROVIDER_TIMEOUT_SECONDS = 9
    provider = SmppProvider.from_settings()
    assert (provider.config.window, provider.config.timeout, provider.concurrency) == (4, 9, 4)
    assert provider.can_be_asked is False
    settings.SMPP_URL = ""
    with pytest.raises(ImproperlyConfigured):
        SmppProvider.from_settings()


# --- The codec on its own --------------------------------------------------------------------


def test_gsm_tables_match_the_segment_counter():
    assert set(GSM_BASIC_TABLE) - {"\x1b"} == GSM_BASIC
    assert set(GSM_EXTENSION_TABLE.values()) == GSM_EXTENSION
    assert GSM_BASIC_TABLE[0x5F] == "§" and GSM_BASIC_TABLE[0x00] == "@"


gsm_text = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=700)
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=400)


def _user_data(encoded):
    if len(encoded.parts) == 1:
        return list(encoded.parts)
    return [split_udh(part)[1] for part in encoded.parts]


@examples(max_examples=200, deadline=None)
@given(gsm_text)
def test_gsm_texts_survive_encoding_in_as_many_parts_as_the_counter_says(text):
    encoded = encode_text(text, reference=7)
    assert encoded.data_coding == 0
    assert len(encoded.parts) == cost(text).segments
    data = _user_data(encoded)
    assert all(not part.endswith(b"\x1b") for part in data)  # no escape left dangling
    assert decode_text(b"".join(data), 0) == text


@examples(max_examples=200, deadline=None)
@given(any_text)
def test_any_text_survives_encoding_part_by_part(text):
    encoded = encode_text(text, reference=300)
    assert len(encoded.parts) == cost(text).segments
    data = _user_data(encoded)
    if encoded.data_coding == 8:
        assert "".join(part.decode("utf-16-be") for part in data) == text  # strict, per part
    else:
        assert decode_text(b"".join(data), 0) == text
    if len(encoded.parts) > 1:
        assert {split_udh(p)[0].reference for p in encoded.parts} == {300 % 256}
        assert [split_udh(p)[0].number for p in encoded.parts] == list(
            range(1, len(encoded.parts) + 1)
        )


@pytest.mark.parametrize(
    ("data", "coding", "text"),
    [
        (b"\x00\x1b\x65\x5f", 0x00, "@€§"),
        (b"Hi", 0x01, "Hi"),
        ("Zoë".encode("latin-1"), 0x03, "Zoë"),
        ("Zoë 🙂".encode("utf-16-be"), 0x08, "Zoë 🙂"),
        (b"\x1b\x3c\x1b\x3e", 0xF0, "[]"),
        ("ñ".encode("utf-16-be"), 0x18, "ñ"),  # general coding group, UCS-2
    ],
)
def test_incoming_data_codings_are_decoded(data, coding, text):
    assert decode_text(data, coding) == text


@examples(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 255))
def test_decoding_never_fails_on_any_bytes(data, coding):
    assert isinstance(decode_text(data, coding), str)
    split_udh(data)


def test_receipt_text_and_tlvs_are_read():
    text = (
        "id:0123abc sub:001 dlvrd:000 submit date:2612041200 done date:2612041201 "
        "stat:UNDELIV err:001 text:Your report stat:DELIVRD"
    )
    receipt = parse_receipt(text, {})
    assert (receipt.message_id, receipt.stat, receipt.err) == ("0123abc", "UNDELIV", "001")
    assert "text" not in receipt.detail and "submit date:2612041200" in receipt.detail
    from_tlvs = parse_receipt(
        "", {"receipted_message_id": "XYZ", "message_state": 2, "network_error_code": None}
    )
    assert (from_tlvs.message_id, from_tlvs.stat) == ("XYZ", "DELIVRD")
    lower = parse_receipt("id:9 Stat:delivrd Err:000", {"receipted_message_id": "0x9"})
    assert (lower.message_id, lower.stat) == ("0x9", "DELIVRD")  # the TLV's id wins
    assert parse_receipt("hello", {}) is None


@pytest.mark.parametrize(
    ("address", "ton", "expected"),
    [
        ("15205550134", 1, "+15205550134"),
        ("15205550134", 0, "+15205550134"),  # international digits with TON "unknown"
        ("+15205550134", 0, "+15205550134"),
        ("5205550134", 0, "5205550134"),  # national: the agency's region reads it later
        ("TPD", 5, "TPD"),
    ],
)
def test_incoming_addresses_are_read_as_e164_where_they_are(address, ton, expected):
    assert e164_from_smpp(address, ton) == expected


def test_outgoing_addresses_carry_their_type_of_number():
    assert smpp_address("+15205550100") == (1, 1, "15205550100")
    assert smpp_address("Testville PD") == (5, 0, "Testville P")  # 11 characters reach a phone
    assert smpp_address("+15205550100", 0, 1) == (0, 1, "15205550100")  # as SMPP_URL says


# --- Replies and receipts, through the database -----------------------------------------------


@pytest.fixture
def linked(transactional_db, smsc, monkeypatch, settings):
    """The SMPP provider as the agency's text provider, with its database thread."""
    provider = connect(smsc)
    provider.receipt_retry_delays = (0.2, 0.2, 0.5, 1, 2)
    settings.SMS_PROVIDERS = ["smpp"]
    monkeypatch.setitem(registry.BUILDERS, "smpp", ("sms", lambda: provider))
    yield provider
    provider.close()


def notify_victim(agency, **record) -> Notification:
    from victim_notify.intake.store import IncomingRecord, ingest

    ingest(agency, [IncomingRecord.from_object(0, make_record(**record))], source="api")
    while sender.send_due("w1"):
        pass
    return Notification.objects.get(channel="sms", kind=MessageKind.REPORT_FILED)


def wait_for_status(note: Notification, *statuses: str, timeout: float = 5.0) -> Notification:
    wait_until(lambda: Notification.objects.get(pk=note.pk).status in statuses, timeout)
    return Notification.objects.get(pk=note.pk)


def test_text_goes_through_the_send_path_and_is_recorded(agency, linked, smsc):
    note = notify_victim(agency)
    assert note.status == Status.SENT and note.provider == "smpp"
    [received] = smsc.messages
    assert received.text == note.body
    assert note.provider_message_id == received.message_ids[0]


def test_delivered_receipt_marks_the_text_delivered(agency, linked, smsc):
    note = notify_victim(agency)
    seq = smsc.send_receipt(note.provider_message_id, stat="DELIVRD")
    note = wait_for_status(note, Status.DELIVERED)
    assert note.status == Status.DELIVERED and note.provider_status == "DELIVRD"
    assert smsc.wait_for(lambda: smsc.deliver_responses.get(seq) == 0)
    [event] = DeliveryEvent.objects.filter(notification=note)
    assert event.source == "smpp" and event.provider_status == "DELIVRD"


def test_undeliverable_receipt_with_an_error_fails_the_text(agency, linked, smsc):
    note = notify_victim(agency)
    smsc.send_receipt(note.provider_message_id, stat="UNDELIV", err="001", with_tlvs=False)
    note = wait_for_status(note, Status.FAILED_PERMANENT, Status.PENDING, Status.FAILED_TEMPORARY)
    assert note.status == Status.FAILED_PERMANENT  # as delivery.record_status classifies "001"
    assert note.provider_error_code == "001" and note.provider_status == "UNDELIV"


def test_receipt_carried_only_in_tlvs_is_read(agency, linked, smsc):
    note = notify_victim(agency)
    smsc.send_receipt(note.provider_message_id, stat="DELIVRD", with_text=False)
    assert wait_for_status(note, Status.DELIVERED).status == Status.DELIVERED


def test_receipt_for_a_later_part_of_a_long_text_finds_its_message(agency, linked, smsc):
    note = notify_victim(agency)
    long = linked.send(message("w" * 400))
    Notification.objects.filter(pk=note.pk).update(provider_message_id=long.provider_message_id)
    third = smsc.messages[-1].message_ids[2]
    smsc.send_receipt(third, stat="DELIVRD")
    assert wait_for_status(note, Status.DELIVERED).status == Status.DELIVERED


def test_receipt_that_overtakes_the_record_of_the_send_is_tried_again(agency, linked, smsc):
    note = notify_victim(agency)
    message_id = note.provider_message_id
    Notification.objects.filter(pk=note.pk).update(provider_message_id="")  # not recorded yet
    smsc.send_receipt(message_id, stat="DELIVRD")
    time.sleep(0.3)
    assert Notification.objects.get(pk=note.pk).status == Status.SENT
    Notification.objects.filter(pk=note.pk).update(provider_message_id=message_id)
    assert wait_for_status(note, Status.DELIVERED).status == Status.DELIVERED


def test_reply_is_stored_and_linked_to_the_report_it_answers(agency, linked, smsc):
    from victim_notify.replies.models import InboundMessage

    note = notify_victim(agency)
    text = "Thank you — when will a detective call me?"  # the dash makes it UCS-2
    [seq] = smsc.send_mo(VICTIM, OUR_NUMBER, text)
    assert wait_until(lambda: InboundMessage.objects.exists())
    reply = InboundMessage.objects.get()
    assert reply.body == text and reply.provider == "smpp" and reply.channel == "sms"
    assert reply.to_address == OUR_NUMBER and reply.contact.value == VICTIM
    assert reply.report_id == note.report_id and reply.in_answer_to_id == note.pk
    assert smsc.wait_for(lambda: smsc.deliver_responses.get(seq) == 0)  # answered once stored


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("Someone took my bike from the rack [blue, 21 speed] " * 5, {"concat": "udh8"}),
        ("¿Cuándo me llaman? Gracias 🙏 " * 8, {"concat": "udh16"}),
        ("My neighbour saw a grey van: plate 4KX-€19 " * 5, {"concat": "sar"}),
    ],
    ids=["gsm-udh8", "ucs2-udh16", "gsm-sar"],
)
def test_long_reply_is_joined_from_its_parts(agency, linked, smsc, text, options):
    from victim_notify.replies.models import InboundMessage

    notify_victim(agency)
    seqs = smsc.send_mo(VICTIM, OUR_NUMBER, text, **options)
    assert len(seqs) > 1
    assert wait_until(lambda: InboundMessage.objects.exists())
    assert InboundMessage.objects.get().body == text
    assert smsc.wait_for(lambda: all(smsc.deliver_responses.get(s) == 0 for s in seqs))


def test_stop_reply_over_smpp_opts_the_victim_out(agency, linked, smsc):
    from victim_notify.contacts.models import OptOut
    from victim_notify.replies.models import InboundMessage

    notify_victim(agency)
    smsc.send_mo(VICTIM, OUR_NUMBER, "STOP")
    assert wait_until(lambda: InboundMessage.objects.exists())
    assert InboundMessage.objects.get().intent == "opt_out"
    assert OptOut.objects.filter(agency=agency, revoked_at=None).exists()


def test_reply_with_numbers_without_a_type_of_number_still_finds_the_agency(agency, linked, smsc):
    from victim_notify.replies.models import InboundMessage

    note = notify_victim(agency)
    smsc.send_mo(VICTIM[1:], OUR_NUMBER[1:], "ok thanks")  # TON 0, as many SMSCs send
    assert wait_until(lambda: InboundMessage.objects.exists())
    reply = InboundMessage.objects.get()
    assert reply.agency_id == agency.pk and reply.to_address == OUR_NUMBER
    assert reply.report_id == note.report_id


def test_link_dropped_mid_window_through_the_send_path_leaves_rows_for_a_person(
    agency, transactional_db, smsc, monkeypatch, settings
):
    """The fault matrix's "SMPP link dropping mid-window": texts whose submit_sm was written
    but never answered become outcome_unknown, and no later round sends them again."""
    from victim_notify.intake.store import IncomingRecord, ingest

    phones = ["(520) 555-0134", "(520) 555-0135", "(520) 555-0136"]
    records = [make_record(victim={"phone": phone}) for phone in phones]
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")
    [parts] = {cost(n.body).segments for n in Notification.objects.filter(channel="sms")}
    # Room for two texts in the window; the link drops once both are written.
    provider = connect(smsc, window=2 * parts)
    settings.SMS_PROVIDERS = ["smpp"]
    monkeypatch.setitem(registry.BUILDERS, "smpp", ("sms", lambda: provider))
    smsc.drop_after(2 * parts)
    try:
        while sender.send_due("w1"):
            pass
        assert not sender.send_due("w2")  # nothing left to send
    finally:
        provider.close()

    statuses = sorted(Notification.objects.filter(channel="sms").values_list("status", flat=True))
    assert statuses == [Status.OUTCOME_UNKNOWN, Status.OUTCOME_UNKNOWN, Status.SENT]
    unknown = Notification.objects.filter(status=Status.OUTCOME_UNKNOWN)
    assert {n.provider_error_code for n in unknown} == {"no_answer"}
    destinations = [s.destination_addr for s in smsc.submits if s.number == 1]
    assert sorted(destinations) == ["15205550134", "15205550135", "15205550136"]  # once each


def test_texts_are_admitted_only_when_the_window_has_room_for_all_their_parts(smsc):
    """What a crash can leave unknown: texts admitted (marked handed over) and not answered
    never need more parts than the window holds, so each was written the moment it was."""
    provider = connect(smsc, window=4, timeout=10)
    smsc.hold_responses = True
    admitted: list[str] = []
    results = []
    long_text = "y" * 200  # two parts

    def admit(group):  # type: ignore[no-untyped-def]
        admitted.extend(m.body for m in group)
        return group

    texts = [message(long_text), message("Text 1"), message("Text 2"), message("Text 3")]
    sending = threading.Thread(
        target=lambda: results.extend(provider.send_many(texts, admit=admit))
    )
    sending.start()
    try:
        assert smsc.wait_for(lambda: smsc.unanswered == 4)
        time.sleep(0.3)  # room for the last text to be admitted, were places not kept
        assert admitted == [long_text, "Text 1", "Text 2"]
        smsc.release()
        sending.join(timeout=10)
    finally:
        provider.close()
    assert len(results) == 4 and all(isinstance(r, Accepted) for _, r in results)
    assert admitted == [m.body for m in texts]


def test_a_text_admit_refuses_is_not_sent_and_has_no_result(smsc):
    provider = connect(smsc, window=2)
    try:
        results = list(
            provider.send_many(
                [message("Text 0"), message("Text 1"), message("Text 2")],
                admit=lambda group: [m for m in group if m.body != "Text 1"],
            )
        )
    finally:
        provider.close()
    assert sorted(m.body for m, _ in results) == ["Text 0", "Text 2"]
    assert sorted(m.text for m in smsc.messages) == ["Text 0", "Text 2"]
