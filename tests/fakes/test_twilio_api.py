"""The Twilio fake, exercised through the official SDK exactly as the product points it there.

Run: .venv/bin/python -m pytest tests/fakes -q  (tests/conftest.py needs Django; without the
Django plugin add --noconftest: .venv/bin/python -m pytest tests/fakes -p no:django --noconftest)
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.fakes.twilio_api import FakeTwilio, LocalTwilioHttpClient, num_segments

ACCOUNT_SID = "AC" + "a1" * 16
AUTH_TOKEN = "fake-auth-token"
FROM = "+15005550001"
TO = "+15005550006"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RFC2822 = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000")
RESOURCE_KEYS = {
    "account_sid", "api_version", "body", "date_created", "date_sent", "date_updated",
    "direction", "error_code", "error_message", "from", "messaging_service_sid", "num_media",
    "num_segments", "price", "price_unit", "sid", "status", "subresource_uris", "to", "uri",
}  # fmt: skip


def make_client(base_url: str, timeout: float = 10, sid: str = ACCOUNT_SID,
                token: str = AUTH_TOKEN) -> Client:  # fmt: skip
    return Client(sid, token, http_client=LocalTwilioHttpClient(base_url, timeout=timeout))


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as running:
        yield running


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return make_client(fake.base_url)


def send(client: Client, body: str = "hello", to: str = TO, **kwargs: Any) -> Any:
    return client.messages.create(to=to, from_=FROM, body=body, **kwargs)


def error_of(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        call()
    return caught.value


# -- creating -----------------------------------------------------------------------------------


def test_create_returns_the_message_resource(fake: FakeTwilio, client: Client) -> None:
    tag = uuid.uuid4().hex
    message = send(client, f"Your report {tag} was approved.", status_callback="http://cb/1")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert message.to == TO
    assert message.from_ == FROM
    assert message.body == f"Your report {tag} was approved."
    assert message.num_segments == "1"
    assert message.account_sid == ACCOUNT_SID
    assert message.direction == "outbound-api"
    assert message.date_sent is None
    assert message.date_created is not None
    assert abs(message.date_created - datetime.now(UTC)) < timedelta(seconds=5)
    assert message.error_code is None
    assert message.uri == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{message.sid}.json"

    [stored] = fake.messages_containing(tag)
    assert stored.sid == message.sid
    assert stored.status_callback == "http://cb/1"
    [request] = fake.requests_containing(tag)
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.form == {
        "To": TO,
        "From": FROM,
        "Body": f"Your report {tag} was approved.",
        "StatusCallback": "http://cb/1",
    }
    assert request.status == 201


def test_wire_format_of_a_created_message(fake: FakeTwilio) -> None:
    response = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": TO, "From": FROM, "Body": "wire"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    resource = response.json()
    assert set(resource) == RESOURCE_KEYS
    assert resource["api_version"] == "2010-04-01"
    assert resource["date_sent"] is None
    assert resource["price"] is None
    assert resource["price_unit"] == "USD"
    assert resource["num_media"] == "0"
    assert resource["messaging_service_sid"] is None
    assert RFC2822.fullmatch(resource["date_created"])
    assert RFC2822.fullmatch(resource["date_updated"])
    assert resource["subresource_uris"]["media"] == resource["uri"][: -len(".json")] + "/Media.json"


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("a" * 306, "2"),
        ("a" * 307, "3"),
        ("€" * 80, "1"),  # GSM-7 extension table: two septets each
        ("€" * 81, "2"),
        ("é" * 160, "1"),  # in the GSM-7 basic table
        ("ç" * 70, "1"),  # not GSM-7: UCS-2
        ("ç" * 71, "2"),
        ("a" * 159 + "ç", "3"),  # one UCS-2 character turns 160 units into ceil(160/67)
        ("😀" * 35, "1"),  # two UTF-16 code units each
        ("😀" * 36, "2"),
    ],
)
def test_num_segments(client: Client, body: str, segments: str) -> None:
    assert send(client, body).num_segments == segments
    assert num_segments(body) == int(segments)


def test_messaging_service_send_is_accepted_without_a_sender(client: Client) -> None:
    service = "MG" + "0" * 32
    message = client.messages.create(to=TO, messaging_service_sid=service, body="hi")
    assert message.status == "accepted"
    assert message.messaging_service_sid == service
    assert message.from_ is None
    assert message.num_segments == "0"


def test_identical_requests_make_two_messages(fake: FakeTwilio, client: Client) -> None:
    first = send(client, "same body")
    second = send(client, "same body")
    assert first.sid != second.sid
    assert [m.sid for m in fake.messages] == [first.sid, second.sid]
    assert fake.request_counts() == {f"POST /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json": 2}


# -- errors -------------------------------------------------------------------------------------


def test_wrong_token_is_401(fake: FakeTwilio) -> None:
    error = error_of(lambda: send(make_client(fake.base_url, token="wrong")))
    assert (error.status, error.code) == (401, 20003)
    assert fake.messages == []
    assert len(fake.requests) == 1


def test_other_account_in_path_is_401(fake: FakeTwilio) -> None:
    other = "AC" + "b2" * 16
    error = error_of(lambda: send(make_client(fake.base_url, sid=other)))
    assert (error.status, error.code) == (401, 20003)


def test_missing_auth_is_401_in_twilio_format(fake: FakeTwilio) -> None:
    response = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": TO, "From": FROM, "Body": "x"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    payload = response.json()
    assert payload["code"] == 20003
    assert payload["status"] == 401
    assert payload["more_info"] == "https://www.twilio.com/docs/errors/20003"
    assert payload["message"] == "Authenticate"


@pytest.mark.parametrize("to", ["5005550006", "+1555", "+1234567890123456", "+1 500 555 0006"])
def test_malformed_to_is_21211(fake: FakeTwilio, client: Client, to: str) -> None:
    error = error_of(lambda: send(client, to=to))
    assert (error.status, error.code) == (400, 21211)
    assert fake.messages == []


def test_numbers_marked_invalid_are_21211(fake: FakeTwilio, client: Client) -> None:
    fake.invalid_numbers.add("+15005550009")
    error = error_of(lambda: send(client, to="+15005550009"))
    assert (error.status, error.code) == (400, 21211)
    assert "is not a valid phone number" in error.msg
    send(client)  # others still go


def test_unsubscribed_recipient_is_21610(fake: FakeTwilio, client: Client) -> None:
    fake.unsubscribed_numbers.add(TO)
    error = error_of(lambda: send(client))
    assert (error.status, error.code) == (400, 21610)
    assert fake.messages == []
    assert fake.requests[0].status == 400


def test_missing_body_is_21602(fake: FakeTwilio, client: Client) -> None:
    error = error_of(lambda: client.messages.create(to=TO, from_=FROM))
    assert (error.status, error.code) == (400, 21602)
    error = error_of(lambda: send(client, body=""))
    assert error.code == 21602
    assert fake.messages == []


# -- reading back -------------------------------------------------------------------------------


def test_fetch_by_sid_and_404(client: Client) -> None:
    created = send(client, "fetch me")
    fetched = client.messages(created.sid).fetch()
    assert fetched.sid == created.sid
    assert fetched.body == "fetch me"
    # auto_sent: the stored message has moved on from "queued".
    assert fetched.status == "sent"
    assert fetched.date_sent is not None

    error = error_of(lambda: client.messages("SM" + "0" * 32).fetch())
    assert (error.status, error.code) == (404, 20404)


def test_list_filters_by_to_and_date_sent(client: Client) -> None:
    other = "+15005550007"
    first = send(client, "one")
    second = send(client, "two")
    send(client, "three", to=other)

    assert [m.sid for m in client.messages.list(to=TO)] == [second.sid, first.sid]  # newest first
    assert [m.body for m in client.messages.list(to=other)] == ["three"]
    assert len(client.messages.list(from_=FROM)) == 3

    now = datetime.now(UTC)
    assert len(client.messages.list(to=TO, date_sent_after=now - timedelta(minutes=1))) == 2
    assert client.messages.list(to=TO, date_sent_after=now + timedelta(hours=1)) == []
    assert client.messages.list(date_sent_before=now - timedelta(hours=1)) == []
    assert len(client.messages.list(date_sent_after=now.date())) == 3


def test_list_with_date_only_filters_on_the_wire(fake: FakeTwilio, client: Client) -> None:
    send(client)
    today = datetime.now(UTC).date()
    url = f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    auth = (ACCOUNT_SID, AUTH_TOKEN)

    def listed(query: str) -> int:
        response = requests.get(f"{url}?{query}", auth=auth, timeout=5)
        assert response.status_code == 200
        return len(response.json()["messages"])

    assert listed(f"DateSent>={today}") == 1
    assert listed(f"DateSent<={today}") == 1
    assert listed(f"DateSent={today}") == 1
    assert listed(f"DateSent>={today + timedelta(days=1)}") == 0
    assert listed(f"DateSent<={today - timedelta(days=1)}") == 0


def test_list_pages(fake: FakeTwilio, client: Client) -> None:
    sids = [send(client, f"m{i}").sid for i in range(5)]
    assert [m.sid for m in client.messages.list(to=TO, page_size=2)] == sids[::-1]
    assert len(client.messages.list(to=TO, limit=3)) == 3

    response = requests.get(
        f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json?To=%2B15005550006"
        "&PageSize=2",
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    page = response.json()
    assert set(page) == {
        "messages", "end", "first_page_uri", "next_page_uri", "page", "page_size",
        "previous_page_uri", "start", "uri",
    }  # fmt: skip
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 2, 0, 1)
    assert page["previous_page_uri"] is None
    assert "Page=1" in page["next_page_uri"]
    assert set(page["messages"][0]) == RESOURCE_KEYS


def test_without_auto_sent_messages_stay_queued() -> None:
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, auto_sent=False) as fake:
        client = make_client(fake.base_url)
        created = send(client)
        assert client.messages(created.sid).fetch().status == "queued"
        assert client.messages.list(date_sent_after=datetime.now(UTC).date()) == []
        fake.update_status(created.sid, "delivered")
        fetched = client.messages(created.sid).fetch()
        assert fetched.status == "delivered"
        assert fetched.date_sent is not None


# -- faults -------------------------------------------------------------------------------------


def test_fail_next_500_then_recovery(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(2, status=500)
    for _ in range(2):
        error = error_of(lambda: send(client, "retry me"))
        assert (error.status, error.code) == (500, 20500)
    assert fake.messages == []
    send(client, "retry me")
    assert len(fake.messages) == 1
    assert [r.status for r in fake.requests] == [500, 500, 201]


def test_429_carries_retry_after(fake: FakeTwilio, client: Client) -> None:
    fake.fail_next(1, status=429, retry_after=7)
    error = error_of(lambda: send(client))
    assert (error.status, error.code) == (429, 20429)

    fake.fail_next(1, status=429, retry_after=7)
    response = requests.post(
        f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": TO, "From": FROM, "Body": "x"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20429"

    send(client)
    assert len(fake.messages) == 1


def test_hold_accepts_then_keeps_the_reply_until_released(fake: FakeTwilio, client: Client) -> None:
    fake.hold()
    result: dict[str, Any] = {}
    sender = threading.Thread(target=lambda: result.update(message=send(client, "held")))
    sender.start()

    assert fake.wait_for_held(1, timeout=5)
    [stored] = fake.messages  # recorded before any reply
    sender.join(timeout=0.3)
    assert sender.is_alive()  # and the reply is still held
    assert fake.held == 1

    fake.release()
    sender.join(timeout=5)
    assert not sender.is_alive()
    assert result["message"].sid == stored.sid
    assert fake.held == 0
    send(client, "after release")  # no longer holding


def test_hang_past_the_client_timeout_raises(fake: FakeTwilio) -> None:
    client = make_client(fake.base_url, timeout=0.5)
    fake.hang_next(1, seconds=10)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        send(client, "slow")
    assert time.monotonic() - started < 3
    send(client, "fast again")  # only the next one hung
    assert [m.body for m in fake.messages] == ["fast again"]


def test_short_hang_answers_late(fake: FakeTwilio, client: Client) -> None:
    fake.hang_next(1, seconds=0.3)
    started = time.monotonic()
    send(client, "late")
    assert time.monotonic() - started >= 0.3
    assert len(fake.messages) == 1


def test_stop_and_start_is_an_outage(fake: FakeTwilio, client: Client) -> None:
    send(client, "before")
    base_url = fake.base_url
    fake.stop()
    assert not fake.running
    with pytest.raises(requests.exceptions.ConnectionError):
        send(client, "during")
    fake.start()
    assert fake.base_url == base_url
    send(client, "after")
    assert [m.body for m in fake.messages] == ["before", "after"]


def test_reset_forgets_everything(fake: FakeTwilio, client: Client) -> None:
    send(client)
    fake.fail_next(3)
    fake.unsubscribed_numbers.add(TO)
    fake.reset()
    assert fake.messages == [] and fake.requests == []
    send(client)
    assert len(fake.messages) == 1


# -- another process, driven over HTTP ----------------------------------------------------------


def control(base_url: str, command: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base_url}/__control",
        data=json.dumps(command).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def get_json(base_url: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base_url}{path}", timeout=5) as response:
        return json.load(response)


@pytest.fixture
def fake_process() -> Iterator[str]:
    command = [sys.executable, "-m", "tests.fakes.twilio_api", "--port", "0"]
    command += ["--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 20)
        assert ready, "the fake did not start"
        line = process.stdout.readline().strip()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_control_endpoints_from_another_process(fake_process: str) -> None:
    base_url = fake_process
    client = make_client(base_url, timeout=5)
    tag = uuid.uuid4().hex
    message = send(client, f"first {tag}", status_callback="http://cb/x")

    [received] = get_json(base_url, "/__received")
    assert received["sid"] == message.sid
    assert (received["to"], received["from"], received["body"]) == (TO, FROM, f"first {tag}")
    assert received["status_callback"] == "http://cb/x"
    assert RFC2822.fullmatch(received["date_created"])

    assert control(base_url, {"fail_next": 2, "status": 503})["fail_left"] == 2
    for _ in range(2):
        assert error_of(lambda: send(client)).status == 503

    control(base_url, {"invalid": ["+15005550009"], "unsubscribed": ["+15005550008"]})
    assert error_of(lambda: send(client, to="+15005550009")).code == 21211
    assert error_of(lambda: send(client, to="+15005550008")).code == 21610

    control(base_url, {"hold": True})
    sender = threading.Thread(target=lambda: send(client, "held"))
    sender.start()
    deadline = time.monotonic() + 5
    while len(get_json(base_url, "/__received")) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [m["body"] for m in get_json(base_url, "/__received")] == [f"first {tag}", "held"]
    assert sender.is_alive()
    control(base_url, {"hold": False})
    sender.join(timeout=5)
    assert not sender.is_alive()

    counts = get_json(base_url, "/__requests")
    assert counts["total"] == 6
    assert counts["by_path"] == {f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json": 6}
    assert counts["by_status"] == {"201": 2, "503": 2, "400": 2}

    control(base_url, {"outage": 5})
    deadline = time.monotonic() + 4  # the outage begins in the server's own time: wait for it
    while True:
        try:
            requests.get(f"{base_url}/__health", timeout=0.5)
        except requests.exceptions.ConnectionError:
            break
        except requests.exceptions.Timeout:  # connected while it was closing
            pass
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.2)  # the open connections are closed just after the listening one
    with pytest.raises(requests.exceptions.ConnectionError):
        send(client)
    deadline = time.monotonic() + 15
    while True:  # back on the same port once the outage is over
        try:
            send(client, "back")
            break
        except requests.exceptions.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.1)

    state = control(base_url, {"reset": True})
    assert state["messages"] == 0 and state["requests"] == 0
    assert get_json(base_url, "/__received") == []


# -- speed --------------------------------------------------------------------------------------


def test_throughput(fake: FakeTwilio, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    count = 2000
    started = time.perf_counter()
    for i in range(count):
        send(client, f"throughput {i}")
    sequential = count / (time.perf_counter() - started)

    def worker(number: int) -> None:
        own = make_client(fake.base_url)
        for i in range(count // 8):
            send(own, f"concurrent {number}-{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = count / (time.perf_counter() - started)

    assert len(fake.messages) == 2 * count
    with capsys.disabled():
        print(
            f"\nfake Twilio through the SDK: {sequential:.0f} msg/s sequential, "
            f"{concurrent:.0f} msg/s with 8 client threads in the same process"
        )
