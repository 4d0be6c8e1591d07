"""NIBRS files as they arrive (XML or flat), each with its contacts feed: beside it (`X.xml`
or `X.txt` comes with `X.contacts.csv`), or looked up in the agency's contacts view."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from victim_notify.agencies.models import Agency
from victim_notify.intake.connectors.contacts import read_contacts_csv
from victim_notify.intake.connectors.database import contacts_for
from victim_notify.intake.connectors.nibrs import Reading, records_for
from victim_notify.intake.connectors.nibrs_flat import looks_like_flat_file, read_nibrs_flat
from victim_notify.intake.connectors.nibrs_xml import read_nibrs_xml
from victim_notify.intake.files import UnreadableFile
from victim_notify.intake.models import DatabaseFeed, FeedPurpose

XML, FLAT = "nibrs-xml", "nibrs-flat"
CONTACTS_SUFFIX = ".contacts.csv"
# Names a NIBRS flat file may have; one is read as NIBRS when it starts like a segment.
FLAT_SUFFIXES = (".nibrs", ".txt", ".dat")


def nibrs_kind(path: Path) -> str | None:
    """XML or FLAT when the file is NIBRS, else None."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return XML
    if suffix == ".nibrs":
        return FLAT
    if suffix in FLAT_SUFFIXES:
        try:
            with path.open("rb") as f:
                return FLAT if looks_like_flat_file(f.read(16)) else None
        except OSError:
            return None
    return None


def contacts_beside(path: Path) -> Path:
    return path.with_name(path.name[: -len(path.suffix)] + CONTACTS_SUFFIX)


def is_contacts_file(path: Path) -> bool:
    return path.name.lower().endswith(CONTACTS_SUFFIX)


def contacts_view(agency: Agency) -> DatabaseFeed | None:
    """The agency's contacts view, when it has one."""
    feeds = DatabaseFeed.objects.filter(agency=agency, purpose=FeedPurpose.CONTACTS, enabled=True)
    return feeds.order_by("name").first()


def read_nibrs_file(agency: Agency, path: Path, kind: str, contacts: Path | None) -> Reading:
    """The file's incidents merged with the contacts feed (the file given, else the agency's
    contacts view), read before any is stored. A view that cannot be reached raises
    `database.FeedError`: the file is for later, not refused."""
    try:
        data = path.read_bytes()
        contacts_data = contacts.read_bytes() if contacts is not None else None
    except OSError as exc:
        raise UnreadableFile(f"cannot read {exc.filename}: {exc.strerror or exc}") from exc
    if kind == XML:
        incidents = read_nibrs_xml(data, settings.NIBRS_SCHEMA)
    else:
        incidents = read_nibrs_flat(data)
    if contacts_data is not None:
        book = read_contacts_csv(contacts_data)
    else:
        view = contacts_view(agency)
        if view is None:
            raise UnreadableFile(
                f"NIBRS carries no names or phones: it needs its contacts file "
                f"({contacts_beside(path).name}) or a contacts view of the agency's"
            )
        book = contacts_for(view, [incident.number for incident in incidents])
    return records_for(agency, incidents, book)


def tell_events(agency: Agency, reading: Reading, summary: dict[str, Any]) -> None:
    """After the reports are stored: the case events the file told of (its arrests), added to
    the summary when there are any."""
    if not reading.events:
        return
    from victim_notify.cases.intake import take_in

    summary["case_events"] = take_in(agency, reading.events, source="nibrs").as_dict()
