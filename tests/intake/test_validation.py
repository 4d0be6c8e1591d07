"""Checks on each record: required fields, dates in the agency's zone, phones, emails, codes,
unknown fields, Unicode, and characters a database cannot store."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from tests.intake.factories import incoming, make_record, post_reports
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.intake.store import RecordResult, ingest
from victim_notify.messages.models import Notification
from victim_notify.rules.models import Decision

NOW = dt.datetime(2026, 12, 2, 18, 0, tzinfo=dt.UTC)  # 11:00 in Phoenix


def one(agency: Any, record: Any, now: dt.datetime | None = NOW) -> RecordResult:
    (result,) = ingest(agency, incoming(record), source="api", now=now).results
    return result


def pointers(result: RecordResult) -> list[str]:
    assert result.outcome == "quarantined", result
    assert result.errors and all(e["message"] for e in result.errors)
    return [e["pointer"] for e in result.errors]


# --- required fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    ["report_number", "status", "reported_at", "officer", "division", "offenses", "parties"],
)
def test_missing_report_field_is_named(agency, field):
    record = make_record()
    del record[field]
    result = one(agency, record)
    assert result.errors == [{"pointer": f"/{field}", "message": "required"}]
    assert QuarantinedRecord.objects.get(pk=result.quarantine_id).errors == result.errors


@pytest.mark.parametrize("field", ["party_id", "role"])
def test_missing_party_field_is_named(agency, field):
    record = make_record()
    del record["parties"][0][field]
    assert pointers(one(agency, record)) == [f"/parties/0/{field}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("report_number", ""),
        ("status", ""),
        ("reported_at", ""),
        ("division", ""),
        ("offenses", []),
        ("parties", []),
        ("officer", {"name": ""}),
        ("report_number", None),
        ("parties", "1"),
    ],
)
def test_empty_or_wrong_required_field_is_named(agency, field, value):
    result = one(agency, make_record(**{field: value}))
    assert pointers(result)[0].startswith(f"/{field}")


def test_every_bad_field_is_named_at_once(agency):
    record = make_record(
        division="Z",
        offenses=["23F", "ZZ", "YY"],
        reported_at="soon",
        occurred_at="2026-13-01T00:00:00",
    )
    record["parties"].append({"party_id": "1", "role": "witness"})
    record["parties"][0]["relationships"] = [{"party_id": "9", "code": "QQ"}]
    assert sorted(pointers(one(agency, record))) == [
        "/division",
        "/occurred_at",
        "/offenses/1",
        "/offenses/2",
        "/parties/0/relationships/0/code",
        "/parties/0/relationships/0/party_id",
        "/parties/1/party_id",
        "/reported_at",
    ]


# --- dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-01T10:15:00", "2026-12-01T17:15:00+00:00"),  # local time in Phoenix (UTC-7)
        ("2026-12-01T10:15:00-05:00", "2026-12-01T15:15:00+00:00"),
        ("2026-12-01T10:15:00Z", "2026-12-01T10:15:00+00:00"),
        ("2026-07-01T10:15:00", "2026-07-01T17:15:00+00:00"),  # no daylight saving in Arizona
        ("2026-12-01", "2026-12-01T07:00:00+00:00"),
    ],
)
def test_times_are_read_in_the_agency_zone_unless_they_say_otherwise(agency, text, utc):
    record = make_record(reported_at=text, occurred_at=None)
    assert one(agency, record).outcome == "accepted"
    report = Report.objects.get()
    assert report.reported_at == dt.datetime.fromisoformat(utc)
    assert ReportVersion.objects.get().payload["reported_at"] == utc


def test_time_a_little_in_the_future_is_clock_skew(agency):
    soon = (NOW + dt.timedelta(minutes=9)).isoformat()
    assert one(agency, make_record(reported_at=soon, occurred_at=soon)).outcome == "accepted"


@pytest.mark.parametrize("field", ["reported_at", "occurred_at"])
def test_time_beyond_clock_skew_is_rejected(agency, field):
    later = (NOW + dt.timedelta(minutes=11)).isoformat()
    result = one(agency, make_record(**{field: later}))
    assert result.errors[0] == {"pointer": f"/{field}", "message": "is in the future"}


def test_future_local_time_uses_the_agency_zone(agency):
    # 11:05 in Phoenix is 5 minutes after NOW; read as UTC it would be 7 hours ago.
    assert (
        one(agency, make_record(reported_at="2026-12-02T11:05:00", occurred_at=None)).outcome
        == "accepted"
    )
    # 11:15 local is 15 minutes after NOW: rejected although 11:15 UTC is in the past.
    result = one(agency, make_record(reported_at="2026-12-02T11:15:00", occurred_at=None))
    assert pointers(result) == ["/reported_at"]


def test_real_clock_is_used_when_no_time_is_given(agency):
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert pointers(one(agency, make_record(reported_at=later), now=None)) == ["/reported_at"]


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "2026-02-30T10:00:00",
        "2026-12-01T25:00:00",
        "2026-12-01T10:00:00+25:00",
        "12/01/2026",
        "1969-12-31T23:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59",
    ],
)
def test_bad_or_impossible_time_is_a_field_error(agency, text):
    assert pointers(one(agency, make_record(reported_at=text, occurred_at=None))) == [
        "/reported_at"
    ]


def test_occurred_after_reported_is_rejected(agency):
    result = one(
        agency, make_record(reported_at="2026-12-01T10:00:00", occurred_at="2026-12-01T12:00:00")
    )
    assert result.errors == [{"pointer": "/occurred_at", "message": "is after the report was made"}]


@pytest.mark.parametrize("value", ["1980-02-30", "17/05/1980", "2027-01-01"])
def test_bad_date_of_birth_is_a_field_error(agency, value):
    assert pointers(one(agency, make_record(victim={"date_of_birth": value}))) == [
        "/parties/0/date_of_birth"
    ]


# --- phones and emails ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("(520) 555-0134", "+15205550134"),
        ("520.555.0134", "+15205550134"),
        ("+1 520 555 0134", "+15205550134"),
        ("1-520-555-0134", "+15205550134"),
        ("+52 55 1234 5678", "+525512345678"),
    ],
)
def test_phone_is_stored_in_e164(agency, given, stored):
    assert one(agency, make_record(victim={"phone": given})).outcome == "accepted"
    party = Party.objects.get()
    assert party.phone.value == stored and not party.phone_invalid


@pytest.mark.parametrize("phone", ["555", "(520) 555-013", "call me", "+999 123"])
def test_invalid_phone_is_a_warning_and_the_email_is_still_used(agency, phone):
    result = one(agency, make_record(victim={"phone": phone, "email": "Ana.Ruiz@Example.ORG"}))
    assert result.outcome == "accepted"
    assert [w["pointer"] for w in result.warnings] == ["/parties/0/phone"]
    assert "kept without a phone" in result.warnings[0]["message"]
    party = Party.objects.get()
    assert party.phone is None and party.phone_invalid
    assert party.email.value == "ana.ruiz@example.org"
    sms = Decision.objects.get(channel="sms")
    assert not sms.send and sms.reason_codes == ["invalid_phone"]
    assert Decision.objects.get(channel="email").send
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]
    assert ReportVersion.objects.get().warnings == result.warnings


@pytest.mark.parametrize(
    "email", ["not-an-email", "ana@", "@example.org", "ana ruiz@example.org", "ana@@x.org"]
)
def test_invalid_email_is_a_warning(agency, email):
    result = one(agency, make_record(victim={"email": email}))
    assert result.outcome == "accepted"
    assert [w["pointer"] for w in result.warnings] == ["/parties/0/email"]
    party = Party.objects.get()
    assert party.email is None and party.email_invalid
    assert Decision.objects.get(channel="email").reason_codes == ["invalid_email"]
    assert Notification.objects.get().channel == "sms"


def test_email_domain_is_not_looked_up(agency):
    # A well-formed address at a domain that does not exist is accepted: no DNS at run time.
    result = one(agency, make_record(victim={"email": "ana@unregistered-domain-zq7x.com"}))
    assert result.outcome == "accepted" and not result.warnings
    assert Party.objects.get().email.value == "ana@unregistered-domain-zq7x.com"


# --- codes and fields -------------------------------------------------------------------------


def test_unknown_offense_is_quarantined(agency):
    result = one(agency, make_record(offenses=["23F", "999"]))
    assert result.errors == [{"pointer": "/offenses/1", "message": "unknown offense code '999'"}]
    assert not Report.objects.exists()


def test_unknown_division_is_quarantined(agency):
    result = one(agency, make_record(division="w"))
    assert result.errors == [{"pointer": "/division", "message": "unknown division 'w'"}]


def test_known_division_not_live_is_stored_but_not_notified(agency):
    assert one(agency, make_record(division="E")).outcome == "accepted"
    decision = Decision.objects.get()
    assert decision.reason_codes == ["division_not_live"]
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("path", "pointer"),
    [
        ((), "/do_not_notfy"),
        (("parties", 0), "/parties/0/do_not_notfy"),
        (("officer",), "/officer/do_not_notfy"),
    ],
)
def test_unknown_field_is_quarantined_with_its_pointer(agency, path, pointer):
    record = make_record()
    target: Any = record
    for step in path:
        target = target[step]
    target["do_not_notfy"] = True
    result = one(agency, record)
    assert result.errors == [{"pointer": pointer, "message": "unknown field (check its spelling)"}]


def test_pointer_escapes_slash_and_tilde(agency):
    record = make_record()
    record["a/b~c"] = 1
    assert pointers(one(agency, record)) == ["/a~1b~0c"]


def test_relationship_codes_are_checked(agency):
    record = make_record()
    record["parties"].append(
        {"party_id": "2", "role": "suspect", "relationships": [{"party_id": "1", "code": "st"}]}
    )
    assert one(agency, record).outcome == "accepted"
    assert Party.objects.get(party_id="2").relationships == [{"party_id": "1", "code": "ST"}]


def test_business_needs_its_name(agency):
    result = one(
        agency, make_record(victim={"kind": "business", "first_name": "", "last_name": ""})
    )
    assert pointers(result) == ["/parties/0/business_name"]


def test_status_is_compared_without_case_or_spaces(agency):
    assert one(agency, make_record(status=" Approved ")).outcome == "accepted"
    assert Report.objects.get().status == "approved"
    assert Notification.objects.count() == 1


# --- Unicode and storage ----------------------------------------------------------------------

NAMES = [
    ("Zoë", "Nguyễn"),
    ("Zoe\u0308", "Nguye\u0302\u0303n"),  # decomposed: kept as given, not normalised
    ("Siobhán", "O'Brien"),
    ("<script>alert(1)</script>", "Robert'); DROP TABLE parties;--"),
    ("محمد", "الفارسي"),
    ("张", "伟"),
    ("😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"),
    ("  Ana  ", "Ruiz\t"),
]


@pytest.mark.parametrize(("first", "last"), NAMES)
def test_names_are_stored_exactly(agency, first, last):
    result = one(
        agency,
        make_record(
            victim={"first_name": first, "last_name": last}, officer={"name": last, "badge": "1"}
        ),
    )
    assert result.outcome == "accepted"
    party = Party.objects.get()
    assert (party.first_name, party.last_name) == (first, last)
    assert Report.objects.get().officer_name == last
    payload = ReportVersion.objects.get().payload["parties"][0]
    assert (payload["first_name"], payload["last_name"]) == (first, last)


def test_names_through_the_api_are_stored_exactly(agency, client, token):
    for first, last in NAMES:
        record = make_record(victim={"first_name": first, "last_name": last})
        assert post_reports(client, token, record).status_code == 201
        party = Party.objects.get(report__report_number=record["report_number"])
        assert (party.first_name, party.last_name) == (first, last)


BAD_TEXT = ["Ana\x00", "\ud800", "Ana\udfff Ruiz", "\udc80\x00"]


@pytest.mark.parametrize("text", BAD_TEXT)
@pytest.mark.parametrize(
    "where", ["first_name", "report_number", "officer", "offense", "key", "party_id"]
)
def test_nul_and_lone_surrogates_are_field_errors(agency, text, where):
    record = make_record()
    expected = {
        "first_name": "/parties/0/first_name",
        "report_number": "/report_number",
        "officer": "/officer/name",
        "offense": "/offenses/0",
        "party_id": "/parties/0/party_id",
    }.get(where)
    if where == "first_name":
        record["parties"][0]["first_name"] = text
    elif where == "report_number":
        record["report_number"] = text
    elif where == "officer":
        record["officer"]["name"] = text
    elif where == "offense":
        record["offenses"] = [text]
    elif where == "party_id":
        record["parties"][0]["party_id"] = text
    else:
        record[text] = text
    result = one(agency, record)
    found = pointers(result)
    if expected:
        assert found == [expected]
    held = QuarantinedRecord.objects.get(pk=result.quarantine_id)
    assert held.errors == result.errors
    assert held.raw  # kept, in a form the database can hold
    assert not Report.objects.exists()


@pytest.mark.parametrize("text", BAD_TEXT)
def test_nul_and_lone_surrogates_through_the_api(agency, client, token, text):
    record = make_record(victim={"last_name": text})
    raw = json.dumps(record).encode()  # escaped: \u0000 and \ud800 are valid JSON text
    response = post_reports(client, token, None, raw=raw)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["pointer"] == "/parties/0/last_name"

    batch = json.dumps([make_record(), record, {text: text}]).encode()
    response = post_reports(client, token, None, raw=batch)
    assert response.status_code == 201, response.content
    assert [r["outcome"] for r in response.json()["results"]] == [
        "accepted",
        "quarantined",
        "quarantined",
    ]


@pytest.mark.parametrize(
    ("field", "path", "limit"),
    [
        ("report_number", (), 40),
        ("status", (), 40),
        ("first_name", ("parties", 0), 100),
        ("name", ("officer",), 120),
        ("email", ("parties", 0), 320),
        ("phone", ("parties", 0), 40),
    ],
)
def test_overlong_strings_are_field_errors(agency, field, path, limit):
    record = make_record()
    target: Any = record
    for step in path:
        target = target[step]
    target[field] = "x" * limit
    pointer = "/" + "/".join(str(p) for p in (*path, field))
    first = one(agency, record)
    assert pointer not in (e["pointer"] for e in first.errors)
    target[field] = "x" * (limit + 1)
    assert pointer in pointers(one(agency, record))


def test_huge_string_is_a_field_error(agency):
    result = one(agency, make_record(victim={"last_name": "é" * 1_000_000}))
    assert pointers(result) == ["/parties/0/last_name"]


def test_status_that_grows_when_lowercased_is_a_field_error(agency):
    # "İ".lower() is two characters: 40 of them become 80, longer than the stored column.
    result = one(agency, make_record(status="İ" * 40))
    assert pointers(result) == ["/status"]
    assert not Report.objects.exists()


def test_json_values_of_every_type_are_field_errors(agency):
    for value in [1, 1.5, True, None, [], {}, "x" * 5]:
        record = make_record(officer=value, offenses=value, parties=[value])
        result = one(agency, record)
        assert result.outcome == "quarantined"
        assert {e["pointer"].split("/")[1] for e in result.errors} <= {
            "officer",
            "offenses",
            "parties",
        }
