"""The send path: claim, hand-off checks, providers, recording, retries, lease recovery."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import make_record
from tests.fakes.smtp_server import SmtpServer
from victim_notify.contacts.models import OptOutSource
from victim_notify.contacts.optouts import contact_for, opt_out
from victim_notify.intake.models import Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import Notification, Status
from victim_notify.providers import registry
from victim_notify.providers.models import DevOutboxMessage

pytestmark = pytest.mark.django_db


def take_in(agency, *records):
    return ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )


def run_until_quiet(worker="w1"):
    while sender.send_due(worker):
        pass


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


def test_text_and_email_are_handed_over_once_and_recorded(agency, smtp):
    take_in(agency, make_record(victim={"email": "ana@example.com"}))
    run_until_quiet()
    text = Notification.objects.get(channel="sms")
    email = Notification.objects.get(channel="email")
    assert text.status == Status.DELIVERED  # the development outbox delivers at once
    assert DevOutboxMessage.objects.filter(notification_id=text.pk).count() == 1
    assert email.status == Status.SENT and email.provider == "smtp" and email.sent_at
    assert smtp.message_ids() == [f"<{email.pk}@testville.example>"]
    assert email.attempts == 1 and email.lease_expires_at is None


def test_permanent_failure_is_recorded_with_the_provider_reason(agency, smtp):
    smtp.behaviour.reject_recipients.add("gone@example.com")
    take_in(agency, make_record(victim={"phone": "", "email": "gone@example.com"}))
    run_until_quiet()
    note = Notification.objects.get()
    assert note.status == Status.FAILED_PERMANENT
    assert note.provider_error_code == "5.1.1" and "User unknown" in note.last_error
    assert note.finished_at is not None


def test_transient_failure_is_retried_later_with_backoff(agency, smtp, settings):
    settings.RETRY_BASE_SECONDS = 60
    smtp.behaviour.data_reply = "451 4.3.0 Try again later"
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com"}))
    before = timezone.now()
    run_until_quiet()
    note = Notification.objects.get()
    assert note.status == Status.PENDING and note.attempts == 1
    assert before + dt.timedelta(seconds=29) < note.not_before < before + dt.timedelta(seconds=61)
    smtp.behaviour.data_reply = None
    with time_machine.travel(note.not_before + dt.timedelta(seconds=1), tick=True):
        run_until_quiet()
    note.refresh_from_db()
    assert note.status == Status.SENT and note.attempts == 2
    assert len(smtp.received) == 1


def test_retries_stop_when_attempts_run_out(agency, smtp, settings):
    settings.MAX_SEND_ATTEMPTS = 2
    settings.RETRY_BASE_SECONDS = 0
    smtp.behaviour.data_reply = "451 4.3.0 Try again later"
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com"}))
    run_until_quiet()
    note = Notification.objects.get()
    assert note.status == Status.FAILED_TEMPORARY and note.attempts == 2
    assert note.status_reason_codes == ["retries_exhausted"]


def test_opt_out_after_the_decision_cancels_at_hand_off(agency):
    take_in(agency, make_record())
    note = Notification.objects.get()
    # Recorded straight in the table, as a concurrent process would, bypassing the helper that
    # also cancels pending messages: the hand-off check alone must stop it.
    from victim_notify.contacts.models import OptOut

    OptOut.objects.create(agency=agency, contact=note.contact, source=OptOutSource.STAFF)
    run_until_quiet()
    note.refresh_from_db()
    assert note.status == Status.CANCELLED and note.status_reason_codes == ["opted_out"]
    assert not DevOutboxMessage.objects.exists()


def test_opt_out_command_path_cancels_pending_messages(agency):
    take_in(agency, make_record())
    contact = contact_for(agency, phone="520-555-0134")
    assert opt_out(agency, contact, source=OptOutSource.COMMAND, actor_label="test")
    assert Notification.objects.get().status == Status.CANCELLED


def test_report_reclassified_in_the_database_is_rechecked_at_hand_off(agency):
    take_in(agency, make_record())
    Report.objects.update(domestic_violence=True)
    run_until_quiet()
    note = Notification.objects.get()
    assert note.status == Status.CANCELLED
    assert note.status_reason_codes == ["domestic_violence_flag"]


def test_text_due_in_quiet_hours_waits_and_the_wait_does_not_count_toward_its_age(agency):
    agency.quiet_hours_start, agency.quiet_hours_end = dt.time(21), dt.time(8)
    agency.save()
    # 22:30 in Phoenix (UTC-7) is 05:30 UTC the next day.
    night = dt.datetime(2026, 12, 2, 5, 30, tzinfo=dt.UTC)
    with time_machine.travel(night, tick=False):
        take_in(agency, make_record(victim={"email": "ana@example.com"}))
        run_until_quiet()
    text = Notification.objects.get(channel="sms")
    email = Notification.objects.get(channel="email")
    assert email.status == Status.DELIVERED  # email goes at any hour
    assert text.status == Status.PENDING
    morning = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # 08:00 in Phoenix
    assert text.not_before == morning
    assert text.expires_at == morning + dt.timedelta(hours=72)
    with time_machine.travel(morning + dt.timedelta(minutes=1), tick=False):
        run_until_quiet()
    text.refresh_from_db()
    assert text.status == Status.DELIVERED


def test_message_past_its_maximum_age_expires_instead_of_going(agency):
    take_in(agency, make_record())
    note = Notification.objects.get()
    with time_machine.travel(note.expires_at + dt.timedelta(minutes=1), tick=False):
        run_until_quiet()
    note.refresh_from_db()
    assert note.status == Status.EXPIRED and note.status_reason_codes == ["expired"]


def test_post_approval_delay_holds_the_message(agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    take_in(agency, make_record())
    assert sender.send_due("w1") == 0
    note = Notification.objects.get()
    with time_machine.travel(note.not_before + dt.timedelta(seconds=1), tick=False):
        assert sender.send_due("w1") == 1


def test_claimed_but_never_handed_over_goes_back_to_pending(agency, settings):
    take_in(agency, make_record())
    ids = sender.claim("crashed-worker", 10, timezone.now())
    assert len(ids) == 1
    later = timezone.now() + dt.timedelta(seconds=settings.LEASE_SECONDS + 1)
    assert sender.recover_stale_leases(later)["requeued"] == 1
    note = Notification.objects.get()
    assert note.status == Status.PENDING and note.attempts == 0


def test_handed_over_to_smtp_then_silence_becomes_outcome_unknown(agency, smtp, settings):
    take_in(agency, make_record(victim={"phone": "", "email": "ana@example.com"}))
    [note_id] = sender.claim("crashed-worker", 10, timezone.now())
    Notification.objects.filter(pk=note_id).update(handed_over_at=timezone.now())
    later = timezone.now() + dt.timedelta(seconds=settings.LEASE_SECONDS + 1)
    assert sender.recover_stale_leases(later)["unknown"] == 1
    note = Notification.objects.get()
    assert note.status == Status.OUTCOME_UNKNOWN and "cannot be asked" in note.last_error
    assert smtp.received == []  # never sent again on a guess


def test_handed_over_to_a_provider_that_can_be_asked_is_reconciled(agency, settings):
    take_in(agency, make_record(), make_record(victim={"phone": "520-555-0177"}))
    first, second = sender.claim("crashed-worker", 10, timezone.now())
    Notification.objects.filter(pk__in=[first, second]).update(handed_over_at=timezone.now())
    # The provider got the first one before the crash, not the second.
    provider = registry.provider_for("sms")
    provider.send(
        sender.outgoing(Notification.objects.select_related("contact", "agency").get(pk=first))
    )
    later = timezone.now() + dt.timedelta(seconds=settings.LEASE_SECONDS + 1)
    assert sender.recover_stale_leases(later) == {"requeued": 1, "found_sent": 1, "unknown": 0}
    with time_machine.travel(later + dt.timedelta(seconds=1), tick=False):
        run_until_quiet()
    assert DevOutboxMessage.objects.filter(notification_id=first).count() == 1
    assert DevOutboxMessage.objects.filter(notification_id=second).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_the_same_message(agency):
    take_in(agency, *[make_record(victim={"phone": f"520-555-01{i:02d}"}) for i in range(60)])
    errors: list[BaseException] = []

    def work(name: str) -> None:
        from django.db import connection

        try:
            while sender.send_due(name, limit=7):
                pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Notification.objects.filter(status=Status.DELIVERED).count() == 60
    per_note = DevOutboxMessage.objects.values_list("notification_id", flat=True)
    assert len(per_note) == len(set(per_note)) == 60


def test_an_outcome_arriving_after_the_lease_was_taken_over_changes_nothing(agency, settings):
    take_in(agency, make_record(), make_record(victim={"phone": "520-555-0178"}))
    first, second = sender.claim("slow-worker", 10, timezone.now())
    # Another worker's sweep already took the first one back.
    Notification.objects.filter(pk=first).update(status=Status.PENDING, claimed_by="")
    notes = list(Notification.objects.filter(pk__in=[first, second]).order_by("pk"))
    accepted = sender.Accepted("SM-late", "queued")
    sender._record("slow-worker", [(n, accepted, "outbox-sms") for n in notes])
    assert Notification.objects.get(pk=first).status == Status.PENDING
    assert Notification.objects.get(pk=first).provider_message_id == ""
    assert Notification.objects.get(pk=second).status == Status.SENT


def test_an_email_taken_back_by_the_sweep_before_its_turn_is_not_sent(agency, smtp):
    """SMTP rows are marked handed over only as each email's turn comes: one the lease sweep
    put back to pending meanwhile (the round ran past its lease) is left to whoever has it."""
    take_in(
        agency,
        *[make_record(victim={"phone": "", "email": f"victim{i}@example.com"}) for i in range(3)],
    )
    ids = sender.claim("slow-worker", 10, timezone.now())
    notes = list(Notification.objects.filter(pk__in=ids).select_related("contact"))
    taken = notes[0].pk
    Notification.objects.filter(pk=taken).update(status=Status.PENDING, claimed_by="")
    sender._hand_over("slow-worker", {"email": notes})
    assert not any(i.startswith(f"<{taken}@") for i in smtp.message_ids())
    assert len(smtp.message_ids()) == 2
    taken_back = Notification.objects.get(pk=taken)
    assert taken_back.status == Status.PENDING and taken_back.handed_over_at is None
    assert Notification.objects.filter(status=Status.SENT).count() == 2


def test_a_template_that_fails_to_render_holds_only_its_own_message(agency):
    from victim_notify.messages.models import MessageTemplate, TemplateRevision

    # Written straight to the table, past the check at save, as a bad migration might.
    template = MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel="email", language="en"
    )
    TemplateRevision.objects.filter(template=template, version=template.version).update(
        subject="{{ report_number * 2 }}"
    )
    summary = take_in(agency, make_record(victim={"email": "ana@example.com"}), make_record())
    assert summary.count("accepted") == 2
    from victim_notify.rules.models import Decision

    [failed] = [
        d for d in Decision.objects.filter(channel="email") if not d.reason_codes == ["no_email"]
    ]
    assert (failed.send, failed.reason_codes) == (False, ["template_failed"])
    assert "template" in failed.sentence
    assert Notification.objects.filter(channel="sms").count() == 2
