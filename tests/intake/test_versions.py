"""Re-sends and amendments: identical content adds nothing; a new version is decided again,
and nobody is told the same thing twice."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from tests.intake.factories import incoming, make_record, two_parties
from victim_notify.intake import validate
from victim_notify.intake.models import Party, QuarantinedRecord, Report, ReportVersion
from victim_notify.intake.store import IngestSummary, ingest
from victim_notify.messages.models import Notification, Status
from victim_notify.rules.models import Decision

NOW = dt.datetime(2026, 12, 2, 18, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=2)


def send(agency: Any, *records: Any, now: dt.datetime = NOW, source: str = "api") -> IngestSummary:
    return ingest(agency, incoming(*records), source=source, now=now)


def outcomes(summary: IngestSummary) -> list[str]:
    return [r.outcome for r in sorted(summary.results, key=lambda r: r.index)]


def amended(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    new = copy.deepcopy(record)
    victim = changes.pop("victim", None)
    new.update(changes)
    if victim:
        new["parties"][0].update(victim)
    return new


def notes(**filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(**filters).order_by("created_at", "channel"))


# --- identical content ------------------------------------------------------------------------


def test_identical_resend_adds_nothing(agency):
    record = two_parties()
    assert outcomes(send(agency, record)) == ["accepted"]
    counts = (ReportVersion.objects.count(), Decision.objects.count(), Notification.objects.count())
    again = send(agency, record, now=LATER, source="file")
    assert outcomes(again) == ["unchanged"]
    assert again.notifications_queued == 0
    assert (
        ReportVersion.objects.count(),
        Decision.objects.count(),
        Notification.objects.count(),
    ) == counts
    assert Report.objects.get().version == 1


def test_same_content_written_differently_is_unchanged(agency):
    record = make_record(reported_at="2026-12-01T10:15:00")
    send(agency, record)
    # The same moment with an explicit offset, the same phone written another way, the same
    # status in capitals, keys in another order: the stored content is the same.
    same = amended(
        record,
        reported_at="2026-12-01T17:15:00Z",
        status="APPROVED",
        victim={"phone": "+1 520-555-0134"},
    )
    same = dict(reversed(list(same.items())))
    assert outcomes(send(agency, same)) == ["unchanged"]
    assert Notification.objects.count() == 1


def test_same_number_twice_in_one_batch_is_versions_one_and_two(agency):
    first = make_record()
    second = amended(first, occurred_at="2026-12-01T08:00:00")
    third = amended(second, officer={"name": "Dana Whitfield", "badge": "9"})
    assert outcomes(send(agency, first, second, third, make_record())) == [
        "accepted",
        "amended",
        "amended",
        "accepted",
    ]
    report = Report.objects.get(report_number=first["report_number"])
    assert report.version == 3
    assert list(report.versions.values_list("number", flat=True)) == [1, 2, 3]
    assert report.officer_badge == "9"
    # The badge is one of the facts told: one message now, for the latest facts.
    pending = notes(report=report, status=Status.PENDING)
    assert len(pending) == 1 and "9" in pending[0].body


# --- amendments -------------------------------------------------------------------------------


def test_corrected_phone_cancels_the_old_text_and_queues_a_new_one(agency):
    record = make_record()
    send(agency, record)
    (old,) = notes()
    summary = send(agency, amended(record, victim={"phone": "(520) 555-0199"}), now=LATER)
    assert outcomes(summary) == ["amended"]
    old.refresh_from_db()
    assert old.status == Status.CANCELLED and old.status_reason_codes == ["contact_changed"]
    (new,) = notes(status=Status.PENDING)
    assert new.contact.value == "+15205550199"
    assert not new.is_update
    assert Report.objects.get().version == 2
    assert ReportVersion.objects.get(number=2).payload["parties"][0]["phone"] == "+15205550199"


def test_changed_offense_before_sending_supersedes_the_pending_message(agency):
    record = two_parties()
    send(agency, record)
    before = notes()
    assert len(before) == 2
    send(agency, amended(record, offenses=["220"]), now=LATER)
    for note in before:
        note.refresh_from_db()
        assert note.status == Status.CANCELLED and note.status_reason_codes == ["superseded"]
    after = notes(status=Status.PENDING)
    assert sorted(n.channel for n in after) == ["email", "sms"]
    assert all(not n.is_update and "Burglary" in n.body for n in after)


def test_changed_offense_after_sending_is_sent_as_an_update(agency):
    record = make_record()
    send(agency, record)
    Notification.objects.update(status=Status.SENT, sent_at=NOW)
    send(agency, amended(record, offenses=["220"]), now=LATER)
    sent, update = notes()
    assert sent.status == Status.SENT  # what was sent stays as it was
    assert update.status == Status.PENDING and update.is_update
    assert update.contact_id == sent.contact_id and update.facts_key != sent.facts_key
    decision = update.decision
    assert decision.report_version == 2 and decision.send

    # The same amendment again changes nothing.
    assert outcomes(send(agency, amended(record, offenses=["220"]), now=LATER)) == ["unchanged"]
    assert len(notes()) == 2
    # Back to the facts already sent: the unsent update is withdrawn, nothing new is sent.
    send(agency, record, now=LATER)
    update.refresh_from_db()
    assert update.status == Status.CANCELLED and update.status_reason_codes == ["superseded"]
    assert len(notes()) == 2
    assert Decision.objects.get(report_version=3, channel="sms").reason_codes == [
        "already_notified"
    ]


def test_added_victim_is_decided_and_notified(agency):
    record = make_record()
    send(agency, record)
    bigger = copy.deepcopy(record)
    bigger["parties"].append(
        {
            "party_id": "7",
            "role": "victim",
            "first_name": "Zoë",
            "last_name": "Nguyễn",
            "email": "zoe@example.org",
            "date_of_birth": "1990-01-01",
        }
    )
    summary = send(agency, bigger, now=LATER)
    assert outcomes(summary) == ["amended"] and summary.notifications_queued == 1
    party = Party.objects.get(party_id="7")
    assert Decision.objects.filter(party=party, report_version=2, send=True).count() == 1
    (note,) = notes(party=party)
    assert note.channel == "email" and note.status == Status.PENDING
    # The first victim's text is not repeated.
    first = Party.objects.get(party_id="1")
    assert len(notes(party=first)) == 1
    assert Decision.objects.get(party=first, report_version=2, channel="sms").reason_codes == [
        "already_notified"
    ]


def test_new_version_with_the_same_facts_sends_nothing_new(agency):
    record = two_parties()
    send(agency, record)
    summary = send(agency, amended(record, occurred_at="2026-12-01T07:00:00"), now=LATER)
    assert outcomes(summary) == ["amended"] and summary.notifications_queued == 0
    assert Report.objects.get().version == 2
    v2 = Decision.objects.filter(report_version=2, channel__in=["sms", "email"])
    reasons = {tuple(d.reason_codes) for d in v2 if not d.send}
    assert ("already_notified",) in reasons
    assert not v2.filter(send=True).exists()
    assert len(notes()) == 2 and all(n.status == Status.PENDING for n in notes())


def test_already_sent_and_same_facts_is_not_repeated(agency):
    record = make_record()
    send(agency, record)
    Notification.objects.update(status=Status.DELIVERED)
    send(agency, amended(record, occurred_at="2026-12-01T07:00:00"), now=LATER)
    assert len(notes()) == 1
    assert Decision.objects.get(report_version=2, channel="sms").reason_codes == [
        "already_notified"
    ]


def test_amendment_to_domestic_violence_cancels_pending_messages(agency):
    record = two_parties()
    send(agency, record)
    send(agency, amended(record, domestic_violence=True), now=LATER)
    assert {(n.status, tuple(n.status_reason_codes)) for n in notes()} == {
        (Status.CANCELLED, ("domestic_violence_flag",))
    }
    assert all(
        d.reason_codes == ["domestic_violence_flag"]
        for d in Decision.objects.filter(report_version=2)
    )


def test_amendment_adding_a_dv_relationship_cancels_pending_messages(agency):
    record = make_record()
    send(agency, record)
    related = copy.deepcopy(record)
    related["parties"].append(
        {
            "party_id": "2",
            "role": "suspect",
            "last_name": "Ruiz",
            "relationships": [{"party_id": "1", "code": "SE"}],
        }
    )
    send(agency, related, now=LATER)
    (note,) = notes()
    assert note.status == Status.CANCELLED and note.status_reason_codes == [
        "domestic_violence_relationship"
    ]


def test_amendment_back_to_review_cancels_and_reapproval_queues_again(agency):
    record = make_record()
    send(agency, record)
    send(agency, amended(record, status="returned"), now=LATER)
    (note,) = notes()
    assert note.status == Status.CANCELLED and note.status_reason_codes == ["report_not_approved"]
    send(agency, record, now=LATER + dt.timedelta(hours=1))
    assert [n.status for n in notes()] == [Status.CANCELLED, Status.PENDING]
    assert Report.objects.get().version == 3


def test_removed_party_has_its_pending_message_cancelled(agency):
    record = two_parties()
    send(agency, record)
    smaller = copy.deepcopy(record)
    smaller["parties"] = smaller["parties"][:1]
    send(agency, smaller, now=LATER)
    removed = Party.objects.get(party_id="2")
    assert removed.removed
    (note,) = notes(party=removed)
    assert note.status == Status.CANCELLED and note.status_reason_codes == ["party_removed"]
    kept = Party.objects.get(party_id="1")
    assert not kept.removed and notes(party=kept)[0].status == Status.PENDING
    # Coming back, the party is on the report again and is told again (the old one was never sent).
    send(agency, record, now=LATER + dt.timedelta(hours=1))
    removed.refresh_from_db()
    assert not removed.removed
    assert [n.status for n in notes(party=removed)] == [Status.CANCELLED, Status.PENDING]


def test_a_party_never_gets_the_same_message_twice(agency):
    record = two_parties()
    versions = [
        record,
        amended(record, offenses=["220"]),
        amended(record, occurred_at="2026-12-01T08:00:00"),
        amended(record, victim={"phone": "(520) 555-0199"}),
        record,
        amended(record, offenses=["220"]),
    ]
    for step, version in enumerate(versions):
        send(agency, version, now=NOW + dt.timedelta(minutes=step))
        if step == 2:
            Notification.objects.filter(status=Status.PENDING).update(status=Status.SENT)
    live = [n for n in notes() if n.status != Status.CANCELLED]
    told = [(n.party_id, n.contact_id, n.channel, n.facts_key) for n in live]
    assert len(told) == len(set(told))


# --- approval and timing ----------------------------------------------------------------------


def test_only_approved_reports_notify_and_the_delay_counts_from_approval(agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    record = make_record(status="pending_review")
    send(agency, record)
    report = Report.objects.get()
    assert report.approved_at is None
    assert not Notification.objects.exists()
    assert Decision.objects.get().reason_codes == ["report_not_approved"]

    summary = send(agency, amended(record, status="approved"), now=LATER)
    assert outcomes(summary) == ["amended"] and summary.notifications_queued == 1
    report.refresh_from_db()
    assert report.approved_at == LATER
    (note,) = notes()
    assert note.due_at == note.not_before == LATER + dt.timedelta(minutes=30)
    assert note.expires_at == note.due_at + dt.timedelta(hours=agency.max_message_age_hours)


def test_approval_time_is_kept_from_the_first_approved_version(agency):
    agency.post_approval_delay_minutes = 30
    agency.save()
    record = make_record()
    send(agency, record)
    send(agency, amended(record, offenses=["220"]), now=NOW + dt.timedelta(minutes=10))
    assert Report.objects.get().approved_at == NOW
    pending = notes(status=Status.PENDING)
    assert [n.not_before for n in pending] == [NOW + dt.timedelta(minutes=30)]


def test_approved_statuses_come_from_the_agency(agency):
    agency.approved_statuses = ["final", "closed"]
    agency.save()
    summary = send(agency, make_record(status="approved"), make_record(status="Closed"))
    assert outcomes(summary) == ["accepted", "accepted"]
    by_status = {n.report.status for n in notes()}
    assert by_status == {"closed"}
    assert Decision.objects.get(report__status="approved").reason_codes == ["report_not_approved"]


# --- storage failures -------------------------------------------------------------------------


def test_record_the_database_refuses_is_quarantined_and_the_rest_stored(agency, monkeypatch):
    # Let an over-long status past validation, as a bug might: on PostgreSQL the column refuses
    # it, and that record alone must be held back (SQLite does not enforce lengths).
    monkeypatch.setattr(validate, "_STATUS_LENGTH", 1000)
    good_a, odd, good_b = make_record(), make_record(status="İ" * 40), make_record()
    summary = send(agency, good_a, odd, good_b)
    result = outcomes(summary)
    assert result[0] == result[2] == "accepted"
    assert (
        Report.objects.filter(
            report_number__in=[good_a["report_number"], good_b["report_number"]]
        ).count()
        == 2
    )
    if result[1] == "quarantined":
        held = QuarantinedRecord.objects.get()
        assert held.report_number == odd["report_number"]
        assert "could not be stored" in held.errors[0]["message"]
    else:
        assert result[1] == "accepted"


@pytest.mark.parametrize("size", [1, 251, 600])
def test_batches_across_chunks_keep_every_record(agency, size):
    records = [make_record() for _ in range(size)]
    records[-1]["division"] = "nope"
    summary = send(agency, *records)
    assert len(summary.results) == size
    assert sorted(r.index for r in summary.results) == list(range(size))
    assert outcomes(summary).count("quarantined") == 1
    assert Report.objects.count() == size - 1
