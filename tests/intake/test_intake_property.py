"""Random and malformed records through `intake.store.ingest`, the API and the file readers:
never an exception or a 500, and every record either taken in or quarantined with a reason."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.intake.factories import post_reports
from victim_notify.intake.files import (
    PARTY_COLUMNS,
    REPORT_COLUMNS,
    UnreadableFile,
    read_csv,
    read_jsonl,
)
from victim_notify.intake.models import QuarantinedRecord, Report
from victim_notify.intake.store import IncomingRecord, IngestSummary, ingest

# Hundreds of generated records each: CI runs these once, not on every database.
pytestmark = pytest.mark.fuzz

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    # The same examples on every run, so CI fails or passes for the code, not the dice.
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
TAKEN_IN = {"accepted", "unchanged", "amended"}
_serial = itertools.count(1)

# --- strategies -------------------------------------------------------------------------------

# Every code point, lone surrogates and NUL included.
any_char = st.characters(codec=None, categories=None, exclude_categories=())
nasty_text = st.one_of(
    st.text(any_char, max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "a\udfffb",
            "İ" * 40,
            "Zoë",
            "Nguyễn",
            "O'Brien",
            "<script>alert(1)</script>",
            "\u202eevil",
            "null",
            "0",
            "true",
            "💥" * 50,
        ]
    ),
    st.builds(
        lambda c, n: c * n, st.text(any_char, min_size=1, max_size=3), st.integers(1, 200_000)
    ),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=12,
)


def _moment_text(moment: dt.datetime, with_offset: bool, offset_minutes: int) -> str:
    if with_offset:
        moment = moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=offset_minutes)))
    return moment.isoformat()


dates = st.one_of(
    st.builds(
        _moment_text,
        st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
        st.booleans(),
        st.integers(-23 * 60, 23 * 60),
    ),
    # Near now, where the clock-skew rule bites.
    st.builds(
        lambda minutes, offset: _moment_text(
            (timezone.now() + dt.timedelta(minutes=minutes)).replace(tzinfo=None), offset, -7 * 60
        ),
        st.integers(-60 * 24, 60),
        st.booleans(),
    ),
    st.sampled_from(
        [
            "2026-12-01",
            "2026-02-30T10:00:00",
            "2026-12-01T10:00:00+25:00",
            "12/01/2026",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00+01:00",
            "1969-12-31T23:59:59Z",
        ]
    ),
    nasty_text,
)
phones = st.one_of(
    st.sampled_from(
        [
            "(520) 555-0134",
            "520-555-0199",
            "+15205550134",
            "+44 20 7946 0958",
            "555",
            "+999 1",
            "1-800-FLOWERS",
            "(520) 555-013",
            "+1 (520) 555-0134 ext. 9",
        ]
    ),
    st.from_regex(r"\+?[0-9 ()+.\-]{0,20}", fullmatch=True),
    nasty_text,
)
emails = st.one_of(
    st.emails(),
    st.sampled_from(["a@b", "no-at-sign", "a@@b.org", "ana@例え.jp", "A@EXAMPLE.ORG"]),
    nasty_text,
)

ROLES = ["victim", "reporting_party", "guardian", "suspect", "witness", "king"]


@st.composite
def parties(draw: st.DrawFn, party_id: str) -> dict[str, Any]:
    party: dict[str, Any] = {"party_id": party_id, "role": draw(st.sampled_from(ROLES[:5]))}
    if draw(st.booleans()):
        party["first_name"] = draw(st.sampled_from(["Ana", "Zoë", "Lee"]))
    if draw(st.booleans()):
        party["last_name"] = draw(st.sampled_from(["Ruiz", "Nguyễn", "O'Brien"]))
    if draw(st.booleans()):
        party["phone"] = draw(st.sampled_from(["(520) 555-0134", "520-555-0199", "+15205550177"]))
    if draw(st.booleans()):
        party["email"] = draw(st.sampled_from(["ana@example.org", "zoe@example.org"]))
    if draw(st.booleans()):
        party["date_of_birth"] = draw(st.sampled_from(["1980-05-17", "2015-01-01"]))
    return party


@st.composite
def valid_records(draw: st.DrawFn) -> dict[str, Any]:
    # A few report numbers recur, so re-sends and amendments happen across examples.
    number = draw(
        st.one_of(st.sampled_from(["P-1", "P-2", "P-3"]), st.builds(lambda: f"P-u{next(_serial)}"))
    )
    count = draw(st.integers(1, 3))
    return {
        "report_number": number,
        "status": draw(st.sampled_from(["approved", "Approved", "pending_review"])),
        "reported_at": "2026-12-01T10:15:00",
        "occurred_at": draw(st.sampled_from([None, "2026-12-01T09:40:00", "2026-12-01T08:00:00"])),
        "officer": {"name": "Dana Whitfield", "badge": draw(st.sampled_from(["4471", "12"]))},
        "division": draw(st.sampled_from(["W", "E"])),
        "offenses": draw(
            st.lists(
                st.sampled_from(["23F", "220", "13B", "11A", "DV", "09A"]), min_size=1, max_size=3
            )
        ),
        "domestic_violence": draw(st.booleans()),
        "parties": [draw(parties(str(i + 1))) for i in range(count)],
    }


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _parent(record: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        record = record[step]
    return record


ACTIONS = "drop retype garble date phone email extra duplicate role relationship".split()
UNKNOWN_KEYS = ["do_not_notfy", "nickname", "\x00", "\udcff", "a/b~c"]


@st.composite
def mutated_records(draw: st.DrawFn) -> Any:
    """A valid record with a few things done to it: a field dropped, retyped or garbled, a
    date, phone or email replaced, an unknown field added, a party duplicated."""
    record = draw(valid_records())
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(ACTIONS))
        people = record.get("parties")
        people = [p for p in people if isinstance(p, dict)] if isinstance(people, list) else []
        if action in ("drop", "retype", "garble"):
            paths = _paths(record)
            if not paths:
                continue
            path = draw(st.sampled_from(paths))
            parent = _parent(record, path)
            if action == "drop":
                del parent[path[-1]]
            else:
                parent[path[-1]] = draw(json_values if action == "retype" else nasty_text)
        elif action == "date":
            record[draw(st.sampled_from(["reported_at", "occurred_at"]))] = draw(dates)
        elif action == "extra":
            target = draw(st.sampled_from([record, *people]))
            target[draw(st.sampled_from(UNKNOWN_KEYS))] = True
        elif not people:
            continue
        elif action in ("phone", "email"):
            party = draw(st.sampled_from(people))
            party[action] = draw(phones if action == "phone" else emails)
        elif action == "duplicate":
            record["parties"].append(copy.deepcopy(people[0]))
        elif action == "role":
            people[-1]["role"] = draw(st.sampled_from(ROLES))
        else:
            code = draw(st.sampled_from(["ST", "SE", "bg", "QQ", "X"]))
            other = draw(st.sampled_from(["1", "2", "9", ""]))
            people[-1]["relationships"] = [{"party_id": other, "code": code}]
    return record


any_record = st.one_of(mutated_records(), mutated_records(), valid_records(), json_values)

# --- checks -------------------------------------------------------------------------------------


def check_results(results: list[dict[str, Any]], sent: int) -> None:
    assert len(results) == sent
    assert sorted(r["index"] for r in results) == list(range(sent))
    for result in results:
        event(result["outcome"])
        if result["outcome"] in TAKEN_IN:
            assert not result.get("errors")
            assert Report.objects.filter(report_number=result["report_number"]).exists()
            continue
        assert result["outcome"] == "quarantined", result
        assert result["errors"], result
        for error in result["errors"]:
            assert error["pointer"] == "" or error["pointer"].startswith("/"), error
            assert isinstance(error["message"], str) and error["message"], error
        assert QuarantinedRecord.objects.filter(pk=result["quarantine_id"]).exists()


def summary_results(summary: IngestSummary) -> list[dict[str, Any]]:
    return [
        {
            "index": r.index,
            "report_number": r.report_number,
            "outcome": r.outcome,
            "errors": r.errors,
            "quarantine_id": r.quarantine_id,
        }
        for r in summary.results
    ]


# --- properties -------------------------------------------------------------------------------


@SETTINGS
@given(records=st.lists(any_record, min_size=1, max_size=6))
def test_ingest_takes_in_or_quarantines_every_record(agency, records):
    summary = ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )
    check_results(summary_results(summary), len(records))
    counted = summary.as_dict()
    assert counted["received"] == len(records)
    assert counted["accepted"] + counted["unchanged"] + counted["amended"] + len(
        counted["quarantined"]
    ) == len(records)
    json.dumps(counted, ensure_ascii=False).encode()  # the command prints it


@SETTINGS
@given(body=st.one_of(st.lists(any_record, min_size=1, max_size=6), mutated_records(), json_values))
def test_api_never_fails_and_answers_for_every_record(agency, token, body):
    raw = json.dumps(body).encode()
    response = post_reports(Client(), token, None, raw=raw)
    assert response.status_code < 500
    if len(raw) > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        assert (
            response.status_code == 413 and response["Content-Type"] == "application/problem+json"
        )
    elif body == []:
        assert response.status_code == 422
    elif isinstance(body, list):
        assert response.status_code in (200, 201), response.content
        check_results(response.json()["results"], len(body))
    elif isinstance(body, dict):
        assert response.status_code in (200, 201, 422), response.content
        if response.status_code == 422:
            problem = response.json()
            assert response["Content-Type"] == "application/problem+json"
            assert problem["errors"] and all(
                e["detail"] and (e["pointer"] == "" or e["pointer"].startswith("/"))
                for e in problem["errors"]
            )
            assert QuarantinedRecord.objects.filter(pk=problem["quarantine_id"]).exists()
        else:
            check_results(response.json()["results"], 1)
    else:
        assert (
            response.status_code == 400 and response["Content-Type"] == "application/problem+json"
        )


csv_header = st.lists(
    st.sampled_from(REPORT_COLUMNS + PARTY_COLUMNS + ["junk"]), min_size=0, max_size=25, unique=True
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=st.lists(
        st.one_of(
            st.binary(max_size=80),
            nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
            mutated_records().map(lambda r: json.dumps(r).encode()),
        ),
        max_size=6,
    ),
    header=csv_header,
    bom=st.booleans(),
)
def test_file_readers_refuse_whole_or_read_every_line(agency, lines, header, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines)
    for reader, body in ((read_jsonl, data), (read_csv, ",".join(header).encode() + b"\n" + data)):
        try:
            records = list(reader(body))
        except UnreadableFile as exc:
            assert str(exc)
            continue
        summary = ingest(agency, records, source="file", source_name="random")
        results = summary_results(summary)
        assert len(results) == len(records)
        for result in results:
            assert result["outcome"] in TAKEN_IN or result["errors"]


# One field broken in a known way, and where the error must point.
BREAKS: dict[str, tuple[str, Any]] = {
    "bad date": ("/reported_at", lambda r: r.update(reported_at="yesterday")),
    "no date": ("/reported_at", lambda r: r.pop("reported_at")),
    "impossible date": ("/reported_at", lambda r: r.update(reported_at="2026-02-30T10:00:00")),
    "officer not an object": ("/officer", lambda r: r.update(officer="Dana")),
    "unknown division": ("/division", lambda r: r.update(division="ZZ")),
    "no offenses": ("/offenses", lambda r: r.update(offenses=[])),
    "parties not a list": ("/parties", lambda r: r.update(parties="nobody")),
    "unknown role": ("/parties/0/role", lambda r: r["parties"][0].update(role="king")),
    "bad birth date": (
        "/parties/0/date_of_birth",
        lambda r: r["parties"][0].update(date_of_birth="31/02/1980"),
    ),
    "no report number": ("/report_number", lambda r: r.update(report_number="")),
}


@SETTINGS
@given(
    batch=st.lists(
        st.tuples(valid_records(), st.one_of(st.none(), st.sampled_from(sorted(BREAKS)))),
        min_size=1,
        max_size=8,
    )
)
def test_each_bad_record_is_quarantined_by_its_field_and_its_neighbours_kept(token, batch):
    records, expected = [], []
    for record, broken in batch:
        record = copy.deepcopy(record)
        record["report_number"] = f"N-{next(_serial)}"
        if broken is not None:
            pointer, damage = BREAKS[broken]
            damage(record)
        expected.append(None if broken is None else pointer)
        records.append(record)
    raw = json.dumps(records).encode()
    response = post_reports(Client(), token, None, raw=raw)
    assert response.status_code in (200, 201), response.content
    results = response.json()["results"]
    check_results(results, len(records))
    for result, pointer in zip(sorted(results, key=lambda r: r["index"]), expected, strict=True):
        if pointer is None:
            assert result["outcome"] in TAKEN_IN, result
        else:
            assert result["outcome"] == "quarantined", result
            pointers = [e["pointer"] for e in result["errors"]]
            assert any(p.startswith(pointer) for p in pointers), (pointer, result["errors"])
