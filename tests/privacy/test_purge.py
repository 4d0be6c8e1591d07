"""Retention: personal data goes when the records schedule says so; counts, legal holds and
opt-outs stay."""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
import time_machine
from django.core.management import call_command

from tests.conftest import make_record
from tests.privacy import scan
from tests.privacy.test_logs import REPORTED, leaks, needles_of, people, run_everything
from tests.replies.test_twilio_inbound import text_in, twilio_settings  # noqa: F401
from victim_notify.accounts.models import AuditEvent
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.models import Party, Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.logs import StructuredFormatter
from victim_notify.messages import sender
from victim_notify.messages.models import Notification
from victim_notify.messages.rates import rates
from victim_notify.privacy.holds import place_hold, release_hold
from victim_notify.privacy.purge import purge
from victim_notify.replies.models import InboundMessage
from victim_notify.rules.models import Decision
from victim_notify.surveys.analysis import analyse
from victim_notify.surveys.export import anonymized_csv
from victim_notify.surveys.models import Experiment, Response
from victim_notify.worker.jobs import PERIODIC_JOBS

pytestmark = pytest.mark.django_db

A_YEAR_LATER = REPORTED + dt.timedelta(days=400)


def figures(agency) -> tuple:
    experiment = Experiment.objects.get()
    return (
        rates(agency, REPORTED - dt.timedelta(days=1), A_YEAR_LATER),
        analyse(experiment, now=A_YEAR_LATER),
        sorted(Response.objects.values_list("question_key", "value")),
        Decision.objects.filter(send=True).count(),
    )


def exports(agency) -> str:
    out = io.StringIO()
    call_command("notifications", agency=agency.slug, json=True, stdout=out)
    call_command("delivery-report", agency=agency.slug, json=True, days=3650, stdout=out)
    call_command("audit", "export", stdout=out)
    return out.getvalue() + anonymized_csv(Experiment.objects.get())


def test_after_the_purge_no_trace_of_anyone_remains_but_the_counts(client, agency, caplog):
    crowd = people(8)
    caplog.set_level(logging.DEBUG)
    run_everything(client, agency, crowd)
    before = figures(agency)
    # There was something to purge: people, replies, survey answers in their own words.
    assert Party.objects.exclude(first_name_index="").count() >= len(crowd)
    assert InboundMessage.objects.count() >= 5
    assert any(r.raw for r in Response.objects.all())
    with time_machine.travel(A_YEAR_LATER, tick=True):
        counts = purge()
    assert counts.reports == Report.objects.count() and counts.held == 0
    literal, words = needles_of(crowd)
    assert scan.found(literal) == []
    stored = "\n".join(value for _, value in scan.stored_text())
    assert leaks(stored, literal, words) == []
    written = "\n".join(StructuredFormatter().format(r) for r in caplog.records)
    assert leaks(written, literal, words) == []
    assert leaks(exports(agency), literal, words) == []
    # Every figure is what it was.
    assert figures(agency) == before
    # Nothing more to do the next day.
    with time_machine.travel(A_YEAR_LATER + dt.timedelta(days=1), tick=True):
        assert purge().reports == 0


def test_a_purged_victim_who_said_stop_is_never_texted_again(client, agency):
    with time_machine.travel(REPORTED, tick=True):
        ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
        while sender.send_due("w"):
            pass
        text_in(client, "STOP", sender_number="+15205550134")
    with time_machine.travel(A_YEAR_LATER, tick=True):
        assert purge().reports == 1
        contact = Contact.objects.get(kind="phone")
        assert contact.value == "" and contact.value_index  # only the keyed hash is left
        assert OptOut.objects.filter(contact=contact, revoked_at=None).exists()
        ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
        while sender.send_due("w"):
            pass
    report = Report.objects.get(purged_at=None)
    texts = Notification.objects.filter(report=report, channel="sms")
    assert not texts.exclude(status="cancelled").exists()
    decision = Decision.objects.get(report=report, channel="sms")
    assert not decision.send and "opted_out" in decision.reason_codes
    assert Contact.objects.get(kind="phone").pk == contact.pk


def test_a_legal_hold_keeps_a_report_whole_until_released(agency):
    with time_machine.travel(REPORTED, tick=True):
        ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    report = Report.objects.get()
    place_hold(report, "Case 26-CV-0042", actor_label="records")
    with time_machine.travel(A_YEAR_LATER, tick=True):
        counts = purge()
    assert (counts.reports, counts.held) == (0, 1)
    assert Party.objects.get().first_name == "Ana"
    assert AuditEvent.objects.filter(action="privacy.legal_hold_placed").exists()
    release_hold(report, actor_label="records")
    with time_machine.travel(A_YEAR_LATER, tick=True):
        assert purge().reports == 1
    assert Party.objects.get().first_name == ""


def test_retention_runs_from_the_last_activity_and_is_set_per_agency(client, agency):
    agency.retain_reports_days = 30
    agency.save()
    with time_machine.travel(REPORTED, tick=True):
        ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
        while sender.send_due("w"):
            pass
    with time_machine.travel(REPORTED + dt.timedelta(days=20), tick=True):
        text_in(client, "thank you", sender_number="+15205550134")
    with time_machine.travel(REPORTED + dt.timedelta(days=40), tick=True):
        assert purge().reports == 0  # the reply, 20 days ago, is activity
    with time_machine.travel(REPORTED + dt.timedelta(days=51), tick=True):
        assert purge(dry_run=True).reports == 1
        assert Party.objects.get().first_name == "Ana"  # a dry run changes nothing
        out = io.StringIO()
        call_command("purge", stdout=out)
        assert '"reports": 1' in out.getvalue()
    assert Party.objects.get().first_name == ""


def test_the_worker_purges_daily():
    [job] = [j for j in PERIODIC_JOBS if j.name == "purge_personal_data"]
    assert job.every == dt.timedelta(days=1)


def test_a_report_sent_again_after_its_purge_is_kept_and_purged_again_in_its_time(agency):
    record = make_record()
    with time_machine.travel(REPORTED, tick=True):
        ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
    with time_machine.travel(A_YEAR_LATER, tick=True):
        assert purge().reports == 1
        amended = dict(record, status="approved", offenses=["220"])
        ingest(agency, [IncomingRecord.from_object(0, amended)], source="api")
    report = Report.objects.get()
    assert report.purged_at is None and Party.objects.get().first_name == "Ana"
    with time_machine.travel(A_YEAR_LATER + dt.timedelta(days=400), tick=True):
        assert purge().reports == 1
    assert Party.objects.get().first_name == ""
