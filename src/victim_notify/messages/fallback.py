"""The other channel, once: when a text fails for good and the person gave an email address
(or the reverse), the same facts go by the other way, if every rule allows it now."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from victim_notify.agencies.config import cached_config
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.models import Party
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.schedule import TemplateBook, _notification
from victim_notify.rules.eligibility import Outcome, decide_report
from victim_notify.rules.facts import report_facts
from victim_notify.rules.models import Decision
from victim_notify.rules.reasons import Reason, stored_sentence

log = logging.getLogger(__name__)

# An email the agency holds back only because a text was going: the failure lifts that.
_LIFTED_BY_FAILURE = {"text_first", "eligible"}


def fall_back_to_other_channel(notification_id: uuid.UUID | str) -> Notification | None:
    failed = (
        Notification.objects.select_related("report", "party").filter(pk=notification_id).first()
    )
    if (
        failed is None
        or failed.kind != MessageKind.REPORT_FILED
        or failed.party is None
        or failed.report is None
    ):
        return None
    other = "email" if failed.channel == "sms" else "sms"
    party: Party = failed.party
    contact_id = party.email_id if other == "email" else party.phone_id
    if contact_id is None:
        return None
    report = failed.report
    already = Notification.objects.filter(
        report=report, contact_id=contact_id, channel=other, facts_key=failed.facts_key
    ).exclude(status=Status.CANCELLED)
    if already.exists():
        return None  # they have it (or will) that way already

    config = cached_config(failed.agency_id)
    parties = list(report.parties.all())
    contact_ids = {cid for p in parties for cid in (p.phone_id, p.email_id) if cid}
    rows = Contact.objects.filter(pk__in=contact_ids).values_list("pk", "value", "undeliverable_at")
    values = {pk: value for pk, value, _ in rows}
    dead = {value for _, value, at in rows if at is not None}
    opted_out = {
        values[cid]
        for cid in OptOut.objects.filter(
            agency_id=failed.agency_id, revoked_at=None, contact_id__in=contact_ids
        ).values_list("contact_id", flat=True)
    }
    facts = report_facts(report, parties, config, values)
    outcomes, _ = decide_report(facts, config.policy, opted_out, dead | {values[failed.contact_id]})
    outcome = next(
        (o for o in outcomes if o.party_id == party.party_id and o.channel == other), None
    )
    if outcome is None or not set(outcome.reason_codes) <= _LIFTED_BY_FAILURE:
        log.info(
            "no fallback: the other channel is not allowed", extra={"notification": str(failed.pk)}
        )
        return None
    reasons = (Reason("eligible"), Reason("fallback_after_failure"))
    with transaction.atomic():
        decision = Decision.objects.create(
            agency_id=failed.agency_id,
            report=report,
            report_version=report.version,
            party=party,
            channel=other,
            send=True,
            reason_codes=[r.code for r in reasons],
            reason_params=[r.params for r in reasons],
            sentence=stored_sentence(True, other, reasons),
        )
        note = _notification(
            config,
            TemplateBook(config),
            report,
            party,
            {p.party_id: p for p in parties},
            Outcome(party.party_id, other, True, reasons, values[contact_id], outcome.on_behalf_of),
            contact_id,
            failed.facts_key,
            is_update=False,
            now=timezone.now(),
        )
        note.decision = decision
        note.save()
    return note
