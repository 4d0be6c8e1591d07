"""The audit trail is append-only and tamper-evident, and holds no personal data."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from victim_notify.accounts.audit import record, terms_hash, verify_chain
from victim_notify.accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def _entries(agency, n: int = 5) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return [
        record("report.viewed", actor_label="sam", agency=agency, detail={"n": i}) for i in range(n)
    ]


def test_each_entry_names_the_one_before_it(agency) -> None:  # type: ignore[no-untyped-def]
    entries = _entries(agency)
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.entry_hash
    assert verify_chain().intact


def test_an_entry_changed_in_the_database_breaks_the_chain_there(agency) -> None:  # type: ignore[no-untyped-def]
    entries = _entries(agency)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_auditevent SET actor_label = %s WHERE id = %s", ["eve", entries[2].pk]
        )
    check = verify_chain()
    assert not check.intact and check.first_bad_id == entries[2].pk


def test_a_deleted_entry_breaks_the_chain(agency) -> None:  # type: ignore[no-untyped-def]
    entries = _entries(agency)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [entries[1].pk])
    assert verify_chain().first_bad_id == entries[2].pk


def test_deleting_the_newest_entries_is_caught_too(agency) -> None:  # type: ignore[no-untyped-def]
    entries = _entries(agency)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE id >= %s", [entries[3].pk])
    check = verify_chain()
    assert not check.intact and "missing" in check.problem


def test_the_orm_refuses_to_change_or_delete_an_entry(agency) -> None:  # type: ignore[no-untyped-def]
    entry = _entries(agency, 1)[0]
    entry.action = "something.else"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_verify_command_says_intact_or_fails(agency, capsys) -> None:  # type: ignore[no-untyped-def]
    entries = _entries(agency)
    call_command("audit", "verify")
    assert "audit trail intact: 5 entries" in capsys.readouterr().out
    AuditEvent.objects.filter(pk=entries[0].pk).update(detail={"n": 99})
    with pytest.raises(CommandError, match=f"entry #{entries[0].pk}"):
        call_command("audit", "verify")


def test_export_command_writes_csv(agency, capsys) -> None:  # type: ignore[no-untyped-def]
    _entries(agency, 3)
    call_command("audit", "export", "--agency", agency.slug)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("id,at,agency,actor,action")
    assert len(lines) == 4


def test_search_terms_are_kept_only_as_a_keyed_hash() -> None:
    assert terms_hash("name", "Ana  Ruiz") == terms_hash("name", "ana ruiz")
    assert terms_hash("name", "Ana Ruiz") != terms_hash("phone", "Ana Ruiz")
    assert "ruiz" not in terms_hash("name", "Ana Ruiz")


def test_the_address_behind_a_trusted_proxy_is_the_one_it_forwarded(settings) -> None:  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    from victim_notify.accounts.audit import client_address

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    assert client_address(request) == "10.0.0.5"  # not a trusted proxy: header ignored
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_address(request) == "198.51.100.7"


def test_entries_written_while_the_check_runs_are_not_taken_for_tampering(agency) -> None:  # type: ignore[no-untyped-def]
    from unittest import mock

    from victim_notify.accounts.models import AuditChainHead

    _entries(agency, 3)
    heads = AuditChainHead.objects

    class StaffWorkingDuringTheCheck:
        """Reading the chain head, just after a staff member's view was written."""

        def __init__(self, **lookup: object) -> None:
            self.lookup = lookup

        def first(self) -> AuditChainHead | None:
            record("report.viewed", actor_label="sam", agency=agency)
            return heads.get_queryset().filter(**self.lookup).first()

    with mock.patch.object(heads, "filter", StaffWorkingDuringTheCheck):
        assert verify_chain().intact
    assert verify_chain().entries == 4
