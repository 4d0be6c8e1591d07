"""The RMS export mapping editor: a supervisor maps an export's columns and codes, tries the
mapping on a sample (nothing kept, nothing sent, the trial audited without its content), and
saves it; what is wrong with a mapping is said before it is saved."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.intake.models import CsvMapping, QuarantinedRecord, Report
from victim_notify.messages.models import Notification

pytestmark = pytest.mark.django_db

NEW = reverse("staff:config-mapping-new")
SAMPLE = Path(__file__).parents[1] / "intake" / "samples" / "rms_export.csv"


def editor_post(**changes: Any) -> dict[str, Any]:
    """What the editor posts for the sample export's mapping."""
    data: dict[str, Any] = {
        "name": "RMS nightly",
        "file_pattern": "rms_export*.csv",
        "delimiter": ",",
        "encoding": "utf-8",
        "list_separator": ";",
        "datetime_format": "%m/%d/%Y %H:%M",
        "date_format": "%m/%d/%Y",
        "column-report_number": "CASE_NO",
        "column-status": "RPT_STATUS",
        "column-reported_at": "RPT_DATE",
        "column-occurred_at": "OCC_DATE",
        "column-officer_name": "OFFICER",
        "column-officer_badge": "BADGE",
        "column-division": "DISTRICT",
        "column-offenses": "UCR_1, UCR_2",
        "column-party_id": "PERSON_SEQ",
        "column-role": "INVOLVEMENT",
        "column-full_name": "NAME",
        "column-phone": "HOME_PHONE",
        "column-email": "EMAIL",
        "column-language": "LANG",
        "column-date_of_birth": "DOB",
        "map-status": "APPR = approved",
        "map-division": "WEST = W",
        "map-offenses": "BURG-RES = 220\nTHEFT-VEH = 23F\nASLT-SIM = 13B",
        "map-role": "V = victim\nRP = reporting_party\nS = suspect",
        "map-language": "ENG = en\nSPA = es",
        "action": "save",
    }
    data.update(changes)
    return data


def sample(name: str = "rms_export_test.csv", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else SAMPLE.read_bytes())


def test_a_supervisor_saves_a_mapping_and_it_is_audited(signed_in, agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    assert "RMS exports" in client.get(reverse("staff:config")).content.decode()

    response = client.post(NEW, editor_post())

    mapping = CsvMapping.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:config-mapping", args=[mapping.pk])
    assert mapping.columns["offenses"] == ["UCR_1", "UCR_2"]
    assert mapping.columns["full_name"] == "NAME"
    assert mapping.value_maps["role"] == {"V": "victim", "RP": "reporting_party", "S": "suspect"}
    assert mapping.agency == agency
    (event,) = AuditEvent.objects.filter(action="config.mapping_created")
    assert event.detail == {"name": "RMS nightly", "file_pattern": "rms_export*.csv"}
    listing = client.get(reverse("staff:config-mappings")).content.decode()
    assert "RMS nightly" in listing and "rms_export*.csv" in listing

    # A change is audited by field; the page shows the saved values.
    url = reverse("staff:config-mapping", args=[mapping.pk])
    client.post(url, editor_post(**{"map-status": "APPR = approved\nFINAL = approved"}))
    mapping.refresh_from_db()
    assert mapping.value_maps["status"] == {"APPR": "approved", "FINAL": "approved"}
    (change,) = AuditEvent.objects.filter(action="config.mapping_changed")
    assert change.detail["fields"] == ["value_maps"]
    page = client.get(url).content.decode()
    assert "FINAL = approved" in page and 'value="UCR_1, UCR_2"' in page


def test_trying_a_sample_shows_what_would_happen_and_keeps_nothing(signed_in, agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    lines = SAMPLE.read_text().splitlines()
    bad = lines[1].replace("2026-001201", "2026-009002").replace("BURG-RES", "ARSON-X")
    content = "\n".join([*lines, bad]).encode()

    response = client.post(NEW, editor_post(action="try", sample=sample(content=content)))

    page = response.content.decode()
    assert response.status_code == 200
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page))
    assert figures["Would be accepted"] == "6"
    assert figures["Would be quarantined"] == "1"
    assert int(figures["Messages that would be queued"]) >= 6
    assert "/offenses/0" in page and "ARSON-X" in page
    assert "LOCATION_DESC" in page  # a column of theirs the mapping does not read
    assert '<datalist id="sample-columns">' in page
    # Nothing was kept, nothing queued, and no mapping saved by trying.
    assert not Report.objects.exists() and not QuarantinedRecord.objects.exists()
    assert not Notification.objects.exists() and not CsvMapping.objects.exists()
    (event,) = AuditEvent.objects.filter(action="config.mapping_tried")
    assert event.detail == {
        "file": "rms_export_test.csv",
        "counts": {"accepted": 6, "amended": 0, "unchanged": 0, "quarantined": 1},
    }

    # The sample is carried in the page: trying again needs no new upload.
    kept = re.search(r'name="sample_kept" value="([^"]+)"', page)
    assert kept and base64.b64decode(kept.group(1)) == content
    again = client.post(
        NEW,
        editor_post(
            action="try",
            sample_kept=kept.group(1),
            sample_name="rms_export_test.csv",
            **{"map-offenses": "BURG-RES = 220\nTHEFT-VEH = 23F\nASLT-SIM = 13B\nARSON-X = 220"},
        ),
    ).content.decode()
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", again))
    assert (figures["Would be accepted"], figures["Would be quarantined"]) == ("7", "0")


def test_an_unreadable_sample_says_why_the_whole_file_would_be_refused(signed_in) -> None:
    client = signed_in(Role.SUPERVISOR)
    content = SAMPLE.read_bytes().replace(b"HOME_PHONE", b"PHONE")
    page = client.post(NEW, editor_post(action="try", sample=sample(content=content)))
    assert "The whole file would be refused" in page.content.decode()
    assert "no column(s) HOME_PHONE" in page.content.decode()


def test_what_is_wrong_with_a_mapping_is_said_and_nothing_is_saved(signed_in) -> None:
    client = signed_in(Role.SUPERVISOR)
    response = client.post(
        NEW,
        editor_post(
            **{
                "column-report_number": "",
                "column-first_name": "FIRST",
                "map-role": "V victim",
                "datetime_format": "MM/DD/YYYY",
            }
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "report_number: name the column it is in, or give a fixed value." in page
    assert "map either the full name or first and last names, not both" in page
    assert "Line 1: write their value, then =, then ours" in page
    assert "write it with % codes" in page
    assert 'aria-invalid="true"' in page
    assert not CsvMapping.objects.exists()


def test_fixed_values_stand_in_for_columns_the_export_lacks(signed_in) -> None:
    client = signed_in(Role.SUPERVISOR)
    client.post(
        NEW,
        editor_post(**{"column-status": "", "fixed-status": "approved", "map-status": ""}),
    )
    mapping = CsvMapping.objects.get()
    assert "status" not in mapping.columns
    assert mapping.fixed_values == {"status": "approved"}


def test_a_mapping_is_deleted_with_an_audit_entry(signed_in, agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    client.post(NEW, editor_post())
    mapping = CsvMapping.objects.get()
    response = client.post(reverse("staff:config-mapping-delete", args=[mapping.pk]))
    assert response.status_code == 302
    assert not CsvMapping.objects.exists()
    assert AuditEvent.objects.filter(action="config.mapping_deleted").exists()


def test_two_mappings_of_an_agency_cannot_share_a_name(signed_in) -> None:
    client = signed_in(Role.SUPERVISOR)
    client.post(NEW, editor_post())
    page = client.post(NEW, editor_post(file_pattern="other*.csv")).content.decode()
    assert "The agency already has a mapping of this name." in page
    assert CsvMapping.objects.count() == 1
