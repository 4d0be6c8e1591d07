"""A feed that goes quiet for longer than usual emails the agency's administrators once, and
again when reports arrive; what counts as usual is learned from the feed's own history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import make_record
from tests.fakes.smtp_server import SmtpServer
from victim_notify.accounts.models import Role, StaffMember
from victim_notify.intake.models import IntakeWatch, ReportVersion, Source
from victim_notify.intake.quiet import check_quiet_sources, heard, usual_gaps
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.providers import registry

pytestmark = pytest.mark.django_db


def local(agency, hour: int, minute: int = 0, day: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=agency.zone).astimezone(dt.UTC)


def staff(agency, name: str, role: str, active: bool = True) -> StaffMember:
    user = get_user_model().objects.create_user(
        username=name, email=f"{name}@saguaro.example", password="x" * 16, is_active=active
    )
    return StaffMember.objects.create(user=user, agency=agency, role=role)


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


@pytest.fixture
def admins(agency):
    staff(agency, "ada", Role.AGENCY_ADMIN)
    staff(agency, "bo", Role.AGENCY_ADMIN)
    staff(agency, "gone", Role.AGENCY_ADMIN, active=False)
    staff(agency, "clerk", Role.CLERK)
    return agency


def test_ingest_notes_when_each_source_was_heard_from(agency):
    good, bad = make_record(), make_record(division="nope")
    ingest(agency, [IncomingRecord.from_object(0, good)], source="api")
    ingest(agency, [IncomingRecord.from_object(0, bad)], source="file")  # quarantined: still alive
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="replay")
    watched = dict(IntakeWatch.objects.values_list("source", "last_heard_at"))
    assert set(watched) == {"api", "file"}  # a staff replay is not a feed


def test_heard_never_moves_the_time_backwards(agency):
    heard(agency, Source.API, local(agency, 12))
    heard(agency, Source.API, local(agency, 9))
    assert IntakeWatch.objects.get().last_heard_at == local(agency, 12)


def test_quiet_past_four_daytime_hours_emails_the_administrators_once(admins, smtp):
    agency = admins
    heard(agency, Source.API, local(agency, 8, 0))
    assert check_quiet_sources(local(agency, 11, 59)) == {"raised": 0, "cleared": 0}
    assert check_quiet_sources(local(agency, 12, 1)) == {"raised": 1, "cleared": 0}
    assert check_quiet_sources(local(agency, 12, 30)) == {"raised": 0, "cleared": 0}

    assert len(smtp.received) == 2  # one each; not the switched-off admin, not the clerk
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [
        "ada@saguaro.example",
        "bo@saguaro.example",
    ]
    email = smtp.received[0].message
    assert email["Subject"].startswith("Victim Notify: no reports from API since 2026-11-10 08:00")
    text = email.get_content()
    assert "4 h 01 min ago" in text
    assert "not usually quiet for more than 4 h 00 min" in text
    assert "/staff/" in text
    watch = IntakeWatch.objects.get()
    assert watch.alarm_raised_at == local(agency, 12, 1)
    assert watch.quiet_since == local(agency, 8, 0)


def test_reports_arriving_again_clear_the_alarm_and_say_so(admins, smtp):
    agency = admins
    heard(agency, Source.FILE, local(agency, 8, 0))
    check_quiet_sources(local(agency, 13))
    heard(agency, Source.FILE, local(agency, 14, 10))
    assert check_quiet_sources(local(agency, 14, 15)) == {"raised": 0, "cleared": 1}
    subjects = [str(r.message["Subject"]) for r in smtp.received]
    assert subjects.count("Victim Notify: reports from File are arriving again") == 2
    assert "quiet since 2026-11-10 08:00" in smtp.received[-1].message.get_content()
    assert "(6 h 10 min)" in smtp.received[-1].message.get_content()
    watch = IntakeWatch.objects.get()
    assert watch.alarm_raised_at is None and watch.quiet_since is None
    # Quiet again later: a new alarm.
    assert check_quiet_sources(local(agency, 18, 11)) == {"raised": 1, "cleared": 0}


def test_the_night_allows_a_longer_quiet(admins, smtp):
    agency = admins
    heard(agency, Source.API, local(agency, 22))
    assert check_quiet_sources(local(agency, 3, day=11))["raised"] == 0  # 5 hours at night
    assert check_quiet_sources(local(agency, 6, 59, day=11))["raised"] == 0  # 8 h 59
    # At 07:00 the day's four hours apply, and the feed has been quiet for nine.
    assert check_quiet_sources(local(agency, 7, 1, day=11))["raised"] == 1


def test_an_agency_can_turn_the_alarm_off(admins, smtp):
    agency = admins
    agency.intake_quiet_day_hours = 0
    agency.save()
    heard(agency, Source.API, local(agency, 8))
    assert check_quiet_sources(local(agency, 20))["raised"] == 0
    assert smtp.received == []


def test_a_small_agency_is_not_woken_by_its_ordinary_quiet_afternoons(admins, smtp):
    """Three reports a day (08:00, 14:00, 20:00) for four weeks: a six-hour daytime gap is
    ordinary there, so the alarm waits for twice that."""
    agency = admins
    now = local(agency, 8, day=29)
    moments = [local(agency, hour, day=day) for day in range(1, 29) for hour in (8, 14, 20)] + [now]
    for moment in moments:
        ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    # Each version arrived at its moment.
    for version, moment in zip(ReportVersion.objects.order_by("pk"), moments, strict=True):
        ReportVersion.objects.filter(pk=version.pk).update(received_at=moment)
    IntakeWatch.objects.update(last_heard_at=now, learned_at=None)

    assert check_quiet_sources(local(agency, 13, day=29))["raised"] == 0  # 5 h: ordinary
    assert check_quiet_sources(local(agency, 19, 59, day=29))["raised"] == 0  # 11 h 59
    watch = IntakeWatch.objects.get()
    assert watch.usual_gap_day == dt.timedelta(hours=6)
    assert check_quiet_sources(local(agency, 20, 1, day=29))["raised"] == 1  # past 12 h


def test_usual_gaps_need_enough_history():
    class Utc:
        zone = dt.UTC

    start = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
    few = [start + dt.timedelta(minutes=10 * i) for i in range(10)]
    assert usual_gaps(Utc(), few) == (None, None)
    many = [start + dt.timedelta(minutes=10 * i) for i in range(60)]
    day, night = usual_gaps(Utc(), many)
    assert day == dt.timedelta(minutes=10)
    assert night is None
