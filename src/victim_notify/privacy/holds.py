"""Legal holds: a report kept whole past its retention period, on the record."""

from __future__ import annotations

from django.db import transaction

from victim_notify.accounts.audit import record
from victim_notify.intake.models import Report


class AlreadyPurged(Exception):
    pass


def place_hold(
    report: Report,
    reason: str,
    *,
    actor_label: str,
    actor: object = None,
    remote_addr: str | None = None,
) -> None:
    if report.purged_at is not None:
        raise AlreadyPurged("its personal data was already purged")
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(legal_hold=True, legal_hold_reason=reason[:200])
        report.legal_hold, report.legal_hold_reason = True, reason[:200]
        record(
            "privacy.legal_hold_placed",
            actor_label=actor_label,
            actor=actor,
            agency=report.agency,
            target=report,
            detail={"reason": reason[:200]},
            remote_addr=remote_addr,
        )


def release_hold(
    report: Report, *, actor_label: str, actor: object = None, remote_addr: str | None = None
) -> None:
    with transaction.atomic():
        Report.objects.filter(pk=report.pk).update(legal_hold=False, legal_hold_reason="")
        report.legal_hold, report.legal_hold_reason = False, ""
        record(
            "privacy.legal_hold_released",
            actor_label=actor_label,
            actor=actor,
            agency=report.agency,
            target=report,
            remote_addr=remote_addr,
        )
