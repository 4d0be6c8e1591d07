"""Data for the admin tests: at least one row of every model the admin shows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.conftest import make_record
from victim_notify.agencies.models import Agency, ApiToken
from victim_notify.contacts.models import OptOutSource
from victim_notify.contacts.optouts import contact_for, opt_out
from victim_notify.intake.models import ImportFile, QuarantinedRecord
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.worker.scheduler import enqueue_due_jobs


def take_in(agency: Agency, *records: object) -> None:
    ingest(agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api")


def quarantine(agency: Agency, record: dict[str, object]) -> QuarantinedRecord:
    take_in(agency, record)
    return QuarantinedRecord.objects.get(report_number=record["report_number"])


@pytest.fixture
def admin_data(agency: Agency) -> Agency:
    """Reports, decisions, messages sent to the development outbox, a quarantined record, an
    opt-out, a token, an imported file, a scheduled job, a group and an experiment with an
    answer."""
    import datetime as dt

    from victim_notify.surveys.models import Participant, Response
    from victim_notify.surveys.setup import create_experiment

    create_experiment(agency, "pilot", "Pilot", dt.date(2026, 1, 1))
    take_in(
        agency,
        make_record(victim={"email": "ana@example.com"}),
        make_record(offenses=["DV"]),
        make_record(victim={"phone": "520-555-0140", "juvenile": True}),
    )
    while sender.send_due("admin-tests"):
        pass
    quarantine(agency, make_record(offenses=["23X"]))
    opt_out(
        agency,
        contact_for(agency, phone="520-555-0199"),
        source=OptOutSource.COMMAND,
        actor_label="test",
    )
    ApiToken.issue(agency, "RMS")
    ImportFile.objects.create(
        agency=agency, name="reports.jsonl", sha256="0" * 64, status="done", summary={}
    )
    from victim_notify.calls.models import Call
    from victim_notify.intake.models import DatabaseFeed

    Call.objects.create(agency=agency, call_number="C26-000001", received_at=timezone.now())
    from victim_notify.cases.models import Holiday

    Holiday.objects.create(agency=agency, date=timezone.now().date(), name="Founders' Day")

    DatabaseFeed.objects.create(
        agency=agency,
        name="RMS view",
        database_url="postgresql+psycopg://notify:s3cret@rms-db/rms",
        view="vn_people",
        changed_column="changed_at",
    )
    enqueue_due_jobs()
    Group.objects.create(name="Victim services")
    from victim_notify.messages.delivery import record_status
    from victim_notify.messages.models import Engagement, Notification
    from victim_notify.providers.models import (
        ProviderEvent,
        ProviderHealth,
        ProviderRoute,
        RateWindow,
    )
    from victim_notify.replies.inbound import receive

    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address="+15205550134",
        body="Thank you",
        provider="test",
        provider_message_id="admin-1",
    )
    note = Notification.objects.filter(channel="email").first()
    record_status(
        source="dsn",
        notification_id=note.pk,
        provider_status="bounced",
        error_code="4.2.2",
        detail="mailbox full",
    )
    Engagement.objects.create(notification=note, kind="open", machine=False, agent="browser")
    ProviderRoute.objects.create(agency=agency, channel="sms", position=0, provider="outbox-sms")
    ProviderHealth.objects.create(provider="twilio", up=False, consecutive_failures=5)
    ProviderEvent.objects.create(provider="twilio", event="down", detail="500")
    RateWindow.objects.create(provider="twilio:1", second=1, used=1)
    Response.objects.create(
        participant=Participant.objects.first(),
        question_key="trust",
        raw="4",
        value="4",
        source="sms",
        received_at=dt.datetime(2026, 12, 9, tzinfo=dt.UTC),
    )
    _sign_in_records(agency)
    return agency


def _sign_in_records(agency: Agency) -> None:
    """A staff member with a TOTP device, a failed sign-in and an access log entry."""
    from axes.models import AccessAttempt, AccessFailureLog
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from victim_notify.accounts.models import Role, StaffMember

    user = get_user_model().objects.create_user("clerk.one", password="not used here")
    StaffMember.objects.create(user=user, agency=agency, role=Role.CLERK)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    seen = {"ip_address": "127.0.0.1", "user_agent": "test", "http_accept": "*/*"}
    AccessAttempt.objects.create(
        username="clerk.one", path_info="/staff/login", failures_since_start=1, **seen
    )
    AccessFailureLog.objects.create(
        username="clerk.one", path_info="/staff/login", attempt_time=timezone.now(), **seen
    )
