"""Reports read from a view in the agency's own database, on the local PostgreSQL and MariaDB:
rows inserted while the poller runs are all taken in once, whole; a changed row brings its
whole report again as an amendment; a view in the RMS's own columns reads through a mapping;
a view that cannot be read says why; NIBRS files take their contacts from a contacts view."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from django.utils import timezone

from tests.intake.nibrs_documents import Incident, Victim, recently, submission_xml
from tests.intake.test_mapped_csv import rms_mapping
from victim_notify.intake.connectors.database import (
    FeedError,
    contacts_for,
    poll,
    poll_due_feeds,
)
from victim_notify.intake.models import DatabaseFeed, FeedPurpose, Party, Report

URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}
TIME_TYPE = {"postgresql": "TIMESTAMPTZ", "mariadb": "DATETIME(6)"}
PEOPLE = """
    row_id INTEGER PRIMARY KEY,
    changed_at {time} NOT NULL,
    report_number VARCHAR(40) NOT NULL,
    status VARCHAR(40),
    reported_at VARCHAR(40),
    officer_name VARCHAR(120),
    division VARCHAR(20),
    offenses VARCHAR(100),
    party_id VARCHAR(40),
    role VARCHAR(20),
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    phone VARCHAR(40),
    email VARCHAR(320),
    relationships VARCHAR(100)
"""


@pytest.fixture(params=["postgresql", "mariadb"])
def rms(request: Any) -> Iterator[tuple[sa.Engine, str, str]]:
    """A table of people on reports in a real database, as an RMS's reporting view."""
    engine = sa.create_engine(URLS[request.param])
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.skip(f"{request.param} is not running here: {exc.orig}")
    name = f"vn_people_{secrets.token_hex(4)}"
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"CREATE TABLE {name} ({PEOPLE.format(time=TIME_TYPE[request.param])})")
        )
    yield engine, name, request.param
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {name}"))
    engine.dispose()


class Rms:
    """Writes reports into the table as an RMS would: all rows of a report in one
    transaction, stamped with the database's clock."""

    def __init__(self, engine: sa.Engine, table: str) -> None:
        self.engine, self.table = engine, table
        self.next_row = 1

    def report(
        self, number: str, victim_phone: str = "+15205550142", with_suspect: bool = True
    ) -> None:
        rows = [
            {
                "party_id": "1",
                "role": "victim",
                "first_name": "Ana",
                "last_name": "Ruiz",
                "phone": victim_phone,
                "relationships": "2:ST" if with_suspect else "",
            },
        ]
        if with_suspect:
            rows.append(
                {
                    "party_id": "2",
                    "role": "suspect",
                    "first_name": "",
                    "last_name": "",
                    "phone": "",
                    "relationships": "",
                }
            )
        reported_at = recently()  # one time for the report: its rows must agree
        with self.engine.begin() as connection:
            for row in rows:
                connection.execute(
                    sa.text(
                        f"INSERT INTO {self.table} (row_id, changed_at, report_number, status, "
                        "reported_at, officer_name, division, offenses, party_id, role, "
                        "first_name, last_name, phone, email, relationships) VALUES (:row_id, "
                        "CURRENT_TIMESTAMP, :number, 'approved', :reported_at, 'Ofc. Lee', 'W', "
                        "'23F', :party_id, :role, :first_name, :last_name, :phone, '', "
                        ":relationships)"
                    ),
                    {"row_id": self.next_row, "number": number, "reported_at": reported_at, **row},
                )
                self.next_row += 1

    def change_phone(self, number: str, phone: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(
                    f"UPDATE {self.table} SET phone = :phone, changed_at = CURRENT_TIMESTAMP "
                    "WHERE report_number = :number AND party_id = '1'"
                ),
                {"phone": phone, "number": number},
            )


def feed_for(agency: Any, url: str, table: str, **fields: Any) -> DatabaseFeed:
    values = {
        "name": "RMS view",
        "database_url": url,
        "view": table,
        "changed_column": "changed_at",
        "settle_seconds": 1,
        "poll_seconds": 0,
    } | fields
    return DatabaseFeed.objects.create(agency=agency, **values)


def catch_up(feed: DatabaseFeed, settle: float = 1.5) -> list[Any]:
    """Poll until a poll after the settle time finds nothing."""
    results = []
    time.sleep(settle)
    while (result := poll(feed)).reports:
        results.append(result)
    return results


def test_rows_inserted_while_it_polls_are_all_taken_in_once_and_whole(agency, rms):
    engine, table, kind = rms
    feed = feed_for(agency, URLS[kind], table)
    assert poll(feed).reports == 0  # the first poll sets the mark at now: history is not sent
    writer = Rms(engine, table)
    numbers = [f"2026-{kind[:2]}-{n:04d}" for n in range(60)]
    done = threading.Event()

    def write() -> None:
        for number in numbers:
            writer.report(number)
            time.sleep(0.01)
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    results = []
    while not done.is_set():
        results.append(poll(feed, batch=7))  # small batches: the mark moves many times
    thread.join()
    results += catch_up(feed)

    received = sum(r.summary.as_dict()["received"] for r in results)
    assert received == len(numbers)  # nothing read twice
    assert sum(r.summary.count("accepted") for r in results) == len(numbers)
    assert sorted(Report.objects.values_list("report_number", flat=True)) == numbers
    for report in Report.objects.all():  # nothing skipped, and every report whole
        assert report.version == 1
        assert sorted(report.parties.values_list("party_id", flat=True)) == ["1", "2"]
    assert Party.objects.filter(role="victim").count() == len(numbers)


def test_a_changed_row_brings_its_whole_report_again_as_an_amendment(agency, rms):
    engine, table, kind = rms
    feed = feed_for(agency, URLS[kind], table, high_water_changed="2000-01-01T00:00:00")
    writer = Rms(engine, table)
    writer.report("2026-000777")
    catch_up(feed)
    assert Report.objects.get().version == 1

    time.sleep(0.05)
    writer.change_phone("2026-000777", "+15205550199")
    (result,) = catch_up(feed)

    assert result.reports == 1 and result.summary.count("amended") == 1
    report = Report.objects.get()
    assert report.version == 2
    victim = report.parties.get(party_id="1")
    assert victim.phone.value == "+15205550199"
    assert report.parties.get(party_id="2").role == "suspect"  # the unchanged row came too


def test_a_view_in_the_rms_own_columns_reads_through_a_mapping(agency, rms):
    engine, table, kind = rms
    view = f"{table}_v"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"CREATE VIEW {view} AS SELECT row_id AS SEQ, changed_at AS LAST_CHANGE, "
                "report_number AS CASE_NO, status AS RPT_STATUS, reported_at AS RPT_DATE, "
                "officer_name AS OFFICER, division AS DISTRICT, offenses AS UCR_1, "
                "party_id AS PERSON_SEQ, role AS INVOLVEMENT, first_name AS FIRST, "
                f"last_name AS LAST, phone AS HOME_PHONE FROM {table}"
            )
        )
    try:
        mapping = rms_mapping(
            agency,
            name="View",
            columns={
                "report_number": "CASE_NO",
                "status": "RPT_STATUS",
                "reported_at": "RPT_DATE",
                "officer_name": "OFFICER",
                "division": "DISTRICT",
                "offenses": "UCR_1",
                "party_id": "PERSON_SEQ",
                "role": "INVOLVEMENT",
                "first_name": "FIRST",
                "last_name": "LAST",
                "phone": "HOME_PHONE",
            },
            datetime_format="",
        )
        changed = {"postgresql": "last_change", "mariadb": "LAST_CHANGE"}[kind]
        if kind == "postgresql":  # unquoted names are folded to lower case there
            mapping.columns = {k: v.lower() for k, v in mapping.columns.items()}
            mapping.save()
        feed = feed_for(
            agency,
            URLS[kind],
            view,
            mapping=mapping,
            changed_column=changed,
            high_water_changed="2000-01-01T00:00:00",
        )
        Rms(engine, table).report("2026-000888", with_suspect=False)
        (result,) = catch_up(feed)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP VIEW {view}"))

    assert result.summary.count("accepted") == 1
    victim = Party.objects.get(report__report_number="2026-000888")
    assert (victim.first_name, victim.role) == ("Ana", "victim")


def test_a_view_that_cannot_be_read_says_why_and_the_worker_records_it(agency, rms):
    _, table, kind = rms
    missing = feed_for(agency, URLS[kind], "no_such_view", name="Missing")
    with pytest.raises(FeedError, match="no view or table 'no_such_view'"):
        poll(missing)
    wrong = feed_for(agency, URLS[kind], table, name="Wrong", changed_column="modified")
    with pytest.raises(FeedError, match=f"{table} has no column 'modified'"):
        poll(wrong)

    poll_due_feeds()

    missing.refresh_from_db()
    assert "no view or table" in missing.last_error and missing.polling_until is None


def test_the_worker_polls_each_feed_when_it_is_due_and_skips_a_leased_one(agency, rms):
    engine, table, kind = rms
    feed = feed_for(
        agency, URLS[kind], table, high_water_changed="2000-01-01T00:00:00", poll_seconds=3600
    )
    Rms(engine, table).report("2026-000999")
    time.sleep(1.5)
    DatabaseFeed.objects.filter(pk=feed.pk).update(
        polling_until=timezone.now() + dt.timedelta(minutes=1)
    )
    assert poll_due_feeds() == []  # another worker holds it

    DatabaseFeed.objects.filter(pk=feed.pk).update(polling_until=None)
    (done,) = poll_due_feeds()
    assert done["feed"] == "RMS view" and done["accepted"] == 1
    assert poll_due_feeds() == []  # not due again for an hour


def test_nibrs_files_take_their_contacts_from_a_contacts_view(nibrs_agency, rms, tmp_path):
    engine, _, kind = rms
    contacts = f"vn_contacts_{secrets.token_hex(4)}"
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                f"CREATE TABLE {contacts} (incident_number VARCHAR(40), victim_seq INTEGER, "
                "first_name VARCHAR(100), last_name VARCHAR(100), phone VARCHAR(40), "
                "officer_name VARCHAR(120), division VARCHAR(20), reported_at VARCHAR(40))"
            )
        )
        connection.execute(
            sa.text(
                f"INSERT INTO {contacts} VALUES ('2026-70001', 1, 'Ana', 'Ruiz', "
                "'+15205550142', 'Ofc. Lee', 'W', :reported_at)"
            ),
            {"reported_at": recently()},
        )
    try:
        view = DatabaseFeed.objects.create(
            agency=nibrs_agency,
            name="Contacts",
            purpose=FeedPurpose.CONTACTS,
            database_url=URLS[kind],
            view=contacts,
        )
        book = contacts_for(view, ["2026-70001", "2026-70002"])
        assert set(book) == {"2026-70001"} and book["2026-70001"].victims[1]["first_name"] == "Ana"

        path = tmp_path / "nibrs.xml"
        path.write_bytes(submission_xml(Incident("2026-70001", victims=[Victim(1)])))
        from tests.intake.test_nibrs_xml import ingest

        summary = ingest(path)  # no contacts file: the view is asked
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {contacts}"))

    assert summary["accepted"] == 1
    victim = Party.objects.get(report__report_number="2026-70001", party_id="V1")
    assert victim.first_name == "Ana" and victim.phone.value == "+15205550142"
