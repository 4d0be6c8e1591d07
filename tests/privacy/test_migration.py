"""An installation upgraded with personal data already stored: the migration encrypts it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.privacy import scan
from victim_notify.contacts.models import Contact
from victim_notify.intake.models import Party, QuarantinedRecord, ReportVersion
from victim_notify.messages.models import Notification
from victim_notify.staff.reports import find

BEFORE = [
    ("contacts", "0002_contact_undeliverable_at_contact_undeliverable_code_and_more"),
    ("intake", "0002_party_do_not_contact"),
    ("outbox", "0004_survey_and_rights_kinds"),
    ("providers", "0002_providerevent_providerhealth_ratewindow_and_more"),
    ("replies", "0002_survey_answer_intent"),
    ("surveys", "0001_initial"),
]


@pytest.mark.django_db(transaction=True)
def test_existing_personal_data_is_encrypted_by_the_migration(agency):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    OldContact = old.get_model("contacts", "Contact")
    OldReport = old.get_model("intake", "Report")
    OldParty = old.get_model("intake", "Party")
    phone = OldContact.objects.create(kind="phone", value="+15205550191")
    email = OldContact.objects.create(kind="email", value="celestina@example.org")
    report = OldReport.objects.create(
        agency_id=agency.pk,
        report_number="OLD-1",
        status="approved",
        reported_at=timezone.now(),
        officer_name="Officer",
        division_id=agency.divisions.first().pk,
        offense_codes=["23F"],
        source="api",
        content_hash="x",
    )
    OldParty.objects.create(
        report=report,
        party_id="1",
        role="victim",
        first_name="Celestina",
        last_name="Barragán",
        phone=phone,
        email=email,
        date_of_birth=dt.date(1966, 7, 8),
    )
    old.get_model("intake", "ReportVersion").objects.create(
        report=report,
        number=1,
        content_hash="x",
        payload={"parties": [{"first_name": "Celestina"}]},
        source="api",
    )
    old.get_model("intake", "QuarantinedRecord").objects.create(
        agency_id=agency.pk, source="api", raw='{"first_name": "Celestina"}', errors=[]
    )
    old.get_model("outbox", "Notification").objects.create(
        agency_id=agency.pk,
        report=report,
        contact=phone,
        kind="report_filed",
        channel="sms",
        language="en",
        body="Celestina, see https://pd.example/d/abc",
        details_key="k1",
        due_at=timezone.now(),
        not_before=timezone.now(),
        expires_at=timezone.now(),
    )

    MigrationExecutor(connection).migrate(latest)

    needles = {"Celestina", "Barragán", "+15205550191", "celestina@example.org", "1966-07-08"}
    assert scan.found(needles) == []
    party = Party.objects.get()
    assert (party.first_name, party.last_name) == ("Celestina", "Barragán")
    assert party.date_of_birth == dt.date(1966, 7, 8)
    assert party.phone.value == "+15205550191"
    assert Contact.objects.find("email", "celestina@example.org") == party.email
    assert ReportVersion.objects.get().payload == {"parties": [{"first_name": "Celestina"}]}
    assert "Celestina" in QuarantinedRecord.objects.get().raw
    note = Notification.objects.get()
    assert note.has_details_link and note.body.startswith("Celestina")
    found, _ = find(agency, "name", "barragán")
    assert [r.report_number for r in found] == ["OLD-1"]
