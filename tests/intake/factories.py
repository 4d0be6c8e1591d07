"""Building intake input for these tests: records, API tokens, JSON Lines and CSV files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from django.test import Client

from tests.conftest import make_record
from victim_notify.agencies.models import Agency, ApiToken
from victim_notify.intake.files import PARTY_COLUMNS, REPORT_COLUMNS
from victim_notify.intake.store import IncomingRecord

__all__ = ["make_record"]

REPORTS_URL = "/api/v1/reports"


def token_for(agency: Agency, name: str = "RMS") -> str:
    """The plain value of a new token for the agency (the only copy there is)."""
    _, plain = ApiToken.issue(agency, name)
    return plain


def post_reports(client: Client, token: str | None, body: Any, *, raw: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    return client.post(REPORTS_URL, data=data, content_type="application/json", headers=headers)


def incoming(*records: Any) -> list[IncomingRecord]:
    return [IncomingRecord.from_object(index, record) for index, record in enumerate(records)]


def two_parties(**overrides: Any) -> dict[str, Any]:
    """A report with a victim (phone) and a reporting party (email only)."""
    record = make_record(**overrides)
    record["parties"].append(
        {
            "party_id": "2",
            "role": "reporting_party",
            "first_name": "Lee",
            "last_name": "Park",
            "email": "lee.park@example.org",
            "date_of_birth": "1975-02-02",
        }
    )
    return record


def write_jsonl(path: Path, records: list[Any], *, bom: bool = False) -> Path:
    text = "\n".join(
        r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records
    )
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode() + b"\n")
    return path


def csv_rows(record: dict[str, Any]) -> list[dict[str, str]]:
    """One CSV row per party of a record, the report's columns repeated on each."""
    report = {
        "report_number": record["report_number"],
        "status": record["status"],
        "reported_at": record["reported_at"],
        "occurred_at": record.get("occurred_at") or "",
        "officer_name": record["officer"]["name"],
        "officer_badge": record["officer"].get("badge", ""),
        "division": record["division"],
        "offenses": ";".join(record["offenses"]),
        "domestic_violence": str(record.get("domestic_violence", False)).lower(),
        "do_not_notify": str(record.get("do_not_notify", False)).lower(),
        "detective_name": record.get("detective", {}).get("name", ""),
        "detective_phone": record.get("detective", {}).get("phone", ""),
    }
    rows = []
    for party in record["parties"]:
        row = dict(report)
        for column in PARTY_COLUMNS:
            value = party.get(column, "")
            if column == "relationships":
                value = ";".join(f"{r['party_id']}:{r['code']}" for r in value or [])
            elif isinstance(value, bool):
                value = str(value).lower()
            row[column] = "" if value is None else str(value)
        rows.append(row)
    return rows


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    columns: list[str] | None = None,
    encoding: str = "utf-8",
) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=columns or REPORT_COLUMNS + PARTY_COLUMNS, lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path
