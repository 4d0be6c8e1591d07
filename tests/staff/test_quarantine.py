"""Quarantine in the staff app: records intake refused, corrected field by field and replayed
through intake, or discarded with a reason."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from django.urls import reverse

from tests.conftest import make_record
from tests.web.conftest import quarantine
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency, OffenseCode, OffenseText
from victim_notify.intake.files import read_csv
from victim_notify.intake.models import QuarantinedRecord, QuarantineStatus, Report
from victim_notify.intake.store import ingest
from victim_notify.staff.quarantine import field_label

pytestmark = pytest.mark.django_db

TOO_LONG_PHONE = "520-555-0134 ext 22, ask for the night manager"  # over 40 characters
GOOD_PHONE = "(520) 555-0134"


def bad_phone_record(agency: Agency, number: str = "T-Q-1", **overrides) -> QuarantinedRecord:  # type: ignore[no-untyped-def]
    return quarantine(
        agency, make_record(report_number=number, victim={"phone": TOO_LONG_PHONE}, **overrides)
    )


def record_url(record: QuarantinedRecord) -> str:
    return reverse("staff:quarantine-record", kwargs={"record_id": record.pk})


def discard_url(record: QuarantinedRecord) -> str:
    return reverse("staff:quarantine-discard", kwargs={"record_id": record.pk})


def field_block(html: str, name: str) -> str:
    """The <div class="field"> holding the input `name`."""
    at = html.index(f'name="{name}"')
    start = html.rindex('<div class="field', 0, at)
    return html[start : html.index("</div>", at)]


def input_value(html: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', html)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group())
    return html_lib.unescape(value.group(1)) if value else ""


def correction_data(html: str, **changes: str) -> dict[str, str]:
    """What the browser would post from the correction form on `html`, with `changes`."""
    form = html[html.index('<section class="panel" aria-labelledby="correct-heading">') :]
    form = form[: form.index("</form>")]
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            data[name.group(1)] = html_lib.unescape(value.group(1)) if value else ""
    textarea = re.search(r'<textarea[^>]*name="raw"[^>]*>(.*?)</textarea>', form, re.S)
    assert textarea
    data["raw"] = html_lib.unescape(textarea.group(1)).removeprefix("\n")
    data.pop("csrfmiddlewaretoken", None)
    return data | changes


def fix(client, record: QuarantinedRecord, **changes: str):  # type: ignore[no-untyped-def]
    """Open the record, change the form as a clerk would, and press Save and replay."""
    page = client.get(record_url(record)).content.decode()
    return client.post(record_url(record), correction_data(page, **changes))


def test_the_list_shows_records_waiting_newest_first_with_their_errors(signed_in, agency):
    first = bad_phone_record(agency, "T-Q-1")
    second = quarantine(agency, make_record(report_number="T-Q-2", offenses=["23X"]))
    client = signed_in(Role.CLERK)

    html = client.get(reverse("staff:quarantine")).content.decode()

    assert html.index("T-Q-2") < html.index("T-Q-1")
    assert "/parties/0/phone" in html and "unknown offense code" in html
    assert record_url(first) in html and record_url(second) in html
    assert "Waiting for a decision" in html


def test_the_list_filters_by_status(signed_in, agency):
    waiting = bad_phone_record(agency, "T-Q-1")
    gone = bad_phone_record(agency, "T-Q-2")
    gone.status = QuarantineStatus.DISCARDED
    gone.save()
    client = signed_in(Role.CLERK)

    default = client.get(reverse("staff:quarantine")).content.decode()
    discarded = client.get(reverse("staff:quarantine"), {"status": "discarded"}).content.decode()
    everything = client.get(reverse("staff:quarantine"), {"status": "all"}).content.decode()

    assert record_url(waiting) in default and record_url(gone) not in default
    assert record_url(gone) in discarded and record_url(waiting) not in discarded
    assert record_url(gone) in everything and record_url(waiting) in everything


def test_a_bad_phone_shows_its_error_next_to_an_input_holding_the_value(signed_in, agency):
    record = bad_phone_record(agency)

    html = signed_in(Role.CLERK).get(record_url(record)).content.decode()

    block = field_block(html, "fix-0")
    assert ">Person 1 – phone</label>" in block
    assert "/parties/0/phone" in block
    assert "at most 40 characters" in block
    assert 'aria-invalid="true"' in block
    assert input_value(html, "fix-0") == TOO_LONG_PHONE
    assert input_value(html, "fix-0-at") == "/parties/0/phone"
    assert "Save and replay" in html and "<textarea" in html


def add_offense(agency: Agency, code: str, title: str) -> OffenseCode:
    offense = OffenseCode.objects.create(
        agency=agency, code=code, title=title, section=agency.sections.first()
    )
    # Messages about a report need the offense in words, or scheduling them fails.
    OffenseText.objects.create(
        offense=offense,
        language="en",
        title=title,
        explanation="Someone tricked you out of money or property.",
        explanation_short="Someone tricked you out of money.",
        next_steps="A detective reviews the report.",
        next_steps_short="A detective reviews it.",
    )
    return offense


def datalist(html: str, list_id: str) -> str:
    start = html.index(f'<datalist id="{list_id}">')
    return html[start : html.index("</datalist>", start)]


def test_an_unknown_offense_code_is_offered_the_agencys_codes_and_no_others(
    signed_in, agency, other_agency
):
    add_offense(agency, "26A", "False Pretenses/Swindle/Confidence Game")
    add_offense(other_agency, "99Z", "Only in the other agency")
    record = quarantine(agency, make_record(report_number="T-Q-26", offenses=["26"]))

    html = signed_in(Role.CLERK).get(record_url(record)).content.decode()

    block = field_block(html, "fix-0")
    assert ">Offense 1</label>" in block and "<code>/offenses/0</code>" in block
    assert "Codes this agency uses; pick the one the RMS meant." in block
    assert re.search(r'<input[^>]*name="fix-0"[^>]*list="offense-codes"', html)
    assert input_value(html, "fix-0") == "26"  # the bad value stays, to be corrected
    offered = datalist(html, "offense-codes")
    assert '<option value="26A" label="False Pretenses/Swindle/Confidence Game">' in offered
    assert '<option value="23F" label="Theft From Motor Vehicle">' in offered
    assert "99Z" not in html and "Only in the other agency" not in html
    assert html.count('<datalist id="offense-codes">') == 1


def test_fixing_an_offense_with_a_listed_code_replays_the_record(signed_in, agency):
    add_offense(agency, "26A", "False Pretenses/Swindle/Confidence Game")
    record = quarantine(agency, make_record(report_number="T-Q-26", offenses=["23F", "26"]))
    client = signed_in(Role.CLERK)

    page = client.get(record_url(record)).content.decode()
    assert input_value(page, "fix-0-at") == "/offenses/1"
    assert ">Offense 2</label>" in page

    response = fix(client, record, **{"fix-0": "26A"})

    assert response.status_code == 302
    assert Report.objects.get(report_number="T-Q-26").offense_codes == ["23F", "26A"]
    record.refresh_from_db()
    assert record.status == QuarantineStatus.REPLAYED


def test_an_unknown_division_is_offered_the_agencys_divisions(signed_in, agency):
    record = quarantine(agency, make_record(report_number="T-Q-D", division="WEST"))
    client = signed_in(Role.CLERK)

    html = client.get(record_url(record)).content.decode()

    block = field_block(html, "fix-0")
    assert ">Division</label>" in block and "<code>/division</code>" in block
    assert re.search(r'<input[^>]*name="fix-0"[^>]*list="division-codes"', html)
    offered = datalist(html, "division-codes")
    assert '<option value="W"' in offered and '<option value="E"' in offered
    assert "offense-codes" not in html

    assert fix(client, record, **{"fix-0": "W"}).status_code == 302
    assert Report.objects.get(report_number="T-Q-D").division.code == "W"


def test_an_offenses_cell_of_a_csv_file_lists_the_codes_without_replacing_the_cell(
    signed_in, agency
):
    rows = (
        "report_number,status,reported_at,officer_name,division,offenses,party_id,role,phone\n"
        f"T-CSV-2,approved,2026-12-01T10:15:00,Dana Whitfield,W,23F;26,1,victim,{GOOD_PHONE}\n"
    )
    ingest(agency, read_csv(rows.encode()), source="file", source_name="rms.csv")
    record = QuarantinedRecord.objects.get(report_number="T-CSV-2")

    html = signed_in(Role.CLERK).get(record_url(record)).content.decode()

    block = field_block(html, "fix-0")
    assert ">Offenses</label>" in block and "separated by a semicolon" in block
    assert 'list="offense-codes"' not in html  # one suggestion would replace both codes
    assert "<code>23F</code>" in html and "Theft From Motor Vehicle" in html


@pytest.mark.parametrize(
    ("pointer", "label"),
    [
        ("/offenses/0", "Offense 1"),
        ("/offenses", "Offenses"),
        ("/division", "Division"),
        ("/reported_at", "Reported at"),
        ("/report_number", "Report number"),
        ("/officer/name", "Officer – name"),
        ("/parties/0/phone", "Person 1 – phone"),
        ("/parties/2/date_of_birth", "Person 3 – date of birth"),
        ("/parties/0/relationships/1/code", "Person 1 – relationship 2 – code"),
        ("/parties/0/nickname", "Person 1 – nickname"),
        ("/surprise", "surprise"),
        ("", "The whole record"),
    ],
)
def test_pointers_read_as_plain_labels(pointer, label):
    assert field_label(pointer) == label


def test_the_list_names_each_error_in_words_beside_its_pointer(signed_in, agency):
    bad_phone_record(agency)

    html = signed_in(Role.CLERK).get(reverse("staff:quarantine")).content.decode()

    assert '<strong>Person 1 – phone</strong> <code class="quarantine-pointer">' in html
    assert 'class="table-wrap quarantine-table-wrap"' in html


def test_viewing_a_record_is_audited_without_its_content(signed_in, agency):
    record = bad_phone_record(agency)

    signed_in(Role.CLERK).get(record_url(record))

    event = AuditEvent.objects.get(action="quarantine.viewed")
    assert (event.object_type, event.object_id) == ("intake.quarantinedrecord", str(record.pk))
    assert event.detail == {}


def test_fixing_the_phone_and_replaying_takes_the_report_in(signed_in, agency):
    record = bad_phone_record(agency)
    client = signed_in(Role.CLERK)

    response = fix(client, record, **{"fix-0": GOOD_PHONE})
    assert response.status_code == 302
    response = client.get(response["Location"])

    assert response.request["PATH_INFO"] == reverse("staff:quarantine")
    report = Report.objects.get(agency=agency, report_number="T-Q-1")
    assert report.parties.get().phone.value == "+15205550134"
    record.refresh_from_db()
    assert record.status == QuarantineStatus.REPLAYED
    assert record.resolved_at is not None
    assert json.loads(record.raw)["parties"][0]["phone"] == GOOD_PHONE
    assert "Report T-Q-1 was taken in" in response.content.decode()
    assert f'href="{reverse("staff:report", kwargs={"report_id": report.pk})}"' in (
        response.content.decode()
    )
    event = AuditEvent.objects.get(action="quarantine.replayed")
    assert event.detail == {"fields": ["/parties/0/phone"], "outcome": "accepted"}
    assert (event.object_type, event.object_id) == ("intake.quarantinedrecord", str(record.pk))


def test_a_fix_that_is_still_wrong_shows_the_new_error_and_keeps_the_record_waiting(
    signed_in, agency
):
    record = bad_phone_record(agency)
    raw_before = record.raw
    still_bad = "520-555-0134, or try her sister at 520-555-0177"
    client = signed_in(Role.CLERK)

    response = fix(client, record, **{"fix-0": still_bad})

    html = response.content.decode()
    assert response.status_code == 200
    assert "still cannot be taken in" in html
    assert "at most 40 characters" in field_block(html, "fix-0")
    assert input_value(html, "fix-0") == still_bad  # the clerk's edit is kept
    record.refresh_from_db()
    assert record.status == QuarantineStatus.HELD and record.raw == raw_before
    assert not Report.objects.filter(report_number="T-Q-1").exists()
    assert QuarantinedRecord.objects.count() == 1
    event = AuditEvent.objects.get(action="quarantine.replayed")
    assert event.detail == {"fields": ["/parties/0/phone"], "outcome": "still_invalid"}
    assert still_bad not in json.dumps(event.detail)


def test_after_one_fix_the_next_problem_gets_its_own_field(signed_in, agency):
    # Shape errors are found first; the unknown offense only shows once the phone is fixed.
    record = bad_phone_record(agency, offenses=["23X"])
    client = signed_in(Role.CLERK)

    fixed_phone = fix(client, record, **{"fix-0": GOOD_PHONE}).content.decode()

    assert input_value(fixed_phone, "fix-0-at") == "/offenses/0"
    assert input_value(fixed_phone, "fix-0") == "23X"
    assert "unknown offense code" in field_block(fixed_phone, "fix-0")
    carried = correction_data(fixed_phone)["raw"]
    assert json.loads(carried)["parties"][0]["phone"] == GOOD_PHONE  # the first fix is kept

    done = client.post(record_url(record), correction_data(fixed_phone, **{"fix-0": "23F"}))

    assert done.status_code == 302
    assert Report.objects.get(report_number="T-Q-1").offense_codes == ["23F"]
    outcomes = [e.detail for e in AuditEvent.objects.filter(action="quarantine.replayed")]
    assert {"fields": ["/offenses/0", "/parties/0/phone"], "outcome": "accepted"} in outcomes


def test_the_full_record_can_be_corrected_directly(signed_in, agency):
    record = bad_phone_record(agency)
    data = json.loads(record.raw)
    data["parties"][0]["phone"] = GOOD_PHONE
    client = signed_in(Role.SUPERVISOR)

    # The phone input is left as it was: the full record's correction stands.
    response = fix(client, record, raw=json.dumps(data, indent=2).replace("\n", "\r\n"))

    assert response.status_code == 302
    assert Report.objects.filter(report_number="T-Q-1").exists()


def test_a_record_from_a_csv_file_is_corrected_in_its_row(signed_in, agency):
    rows = (
        "report_number,status,reported_at,officer_name,division,offenses,party_id,role,"
        "first_name,phone\n"
        "T-CSV-1,approved,2026-12-01T10:15:00,Dana Whitfield,W,23F,1,victim,Ana,"
        f'"{TOO_LONG_PHONE}"\n'
        "T-CSV-1,approved,2026-12-01T10:15:00,Dana Whitfield,W,23F,2,reporting_party,Luis,\n"
    )
    ingest(agency, read_csv(rows.encode()), source="file", source_name="rms.csv")
    record = QuarantinedRecord.objects.get(report_number="T-CSV-1")
    client = signed_in(Role.CLERK)

    page = client.get(record_url(record)).content.decode()
    assert input_value(page, "fix-0") == TOO_LONG_PHONE
    assert "rms.csv" in page

    response = fix(client, record, **{"fix-0": GOOD_PHONE})

    assert response.status_code == 302
    report = Report.objects.get(report_number="T-CSV-1")
    assert {p.party_id: p.phone and p.phone.value for p in report.parties.all()} == {
        "1": "+15205550134",
        "2": None,
    }
    record.refresh_from_db()
    assert record.raw.startswith("report_number,") and GOOD_PHONE in record.raw


def test_an_unreadable_record_is_corrected_in_the_full_record(signed_in, agency):
    from victim_notify.intake.store import IncomingRecord

    broken = json.dumps(make_record(report_number="T-Q-9"))[:-1]  # the closing brace is lost
    ingest(agency, [IncomingRecord(3, broken, parse_error="not valid JSON")], source="api")
    record = QuarantinedRecord.objects.get()
    client = signed_in(Role.CLERK)

    page = client.get(record_url(record)).content.decode()
    assert 'name="fix-0"' not in page and "not valid JSON" in page

    response = fix(client, record, raw=broken + "}")

    assert response.status_code == 302
    assert Report.objects.filter(report_number="T-Q-9").exists()


def test_discarding_needs_a_reason_and_records_it(signed_in, agency):
    record = bad_phone_record(agency)
    client = signed_in(Role.CLERK)

    page = client.get(record_url(record)).content.decode()
    assert "data-confirm=" in page and discard_url(record) in page

    refused = client.post(discard_url(record), {"reason": "", "note": "x"})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    record.refresh_from_db()
    assert record.status == QuarantineStatus.HELD

    response = client.post(discard_url(record), {"reason": "duplicate", "note": "same as T-Q-0"})

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == QuarantineStatus.DISCARDED
    assert record.resolved_at is not None
    assert record.resolution_note == "discarded (duplicate): same as T-Q-0"
    event = AuditEvent.objects.get(action="quarantine.discarded")
    assert event.detail == {"reason": "duplicate"}
    assert not Report.objects.exists()


def test_a_record_already_dealt_with_is_not_replayed_or_discarded_again(signed_in, agency):
    record = bad_phone_record(agency)
    record.status = QuarantineStatus.DISCARDED
    record.save()
    client = signed_in(Role.CLERK)

    page = client.get(record_url(record)).content.decode()
    client.post(
        record_url(record), {"fix-0": GOOD_PHONE, "fix-0-at": "/parties/0/phone", "raw": record.raw}
    )
    client.post(discard_url(record), {"reason": "test"})

    assert "Save and replay" not in page and TOO_LONG_PHONE in page
    assert not Report.objects.exists()
    assert not AuditEvent.objects.filter(
        action__in=["quarantine.replayed", "quarantine.discarded"]
    ).exists()


def test_a_record_of_another_agency_is_not_found(signed_in, agency, other_agency):
    theirs = bad_phone_record(other_agency)
    client = signed_in(Role.CLERK)

    assert client.get(record_url(theirs)).status_code == 404
    assert client.post(record_url(theirs), {"raw": theirs.raw}).status_code == 404
    assert client.post(discard_url(theirs), {"reason": "test"}).status_code == 404
    assert record_url(theirs) not in client.get(reverse("staff:quarantine")).content.decode()
    theirs.refresh_from_db()
    assert theirs.status == QuarantineStatus.HELD


def test_an_advocate_may_not_open_the_quarantine(signed_in, agency):
    record = bad_phone_record(agency)
    client = signed_in(Role.ADVOCATE)

    assert client.get(reverse("staff:quarantine")).status_code == 403
    assert client.get(record_url(record)).status_code == 403
    assert client.post(discard_url(record), {"reason": "test"}).status_code == 403
    record.refresh_from_db()
    assert record.status == QuarantineStatus.HELD
