"""Messages we send because someone wrote to us: the opt-out and opt-in confirmations, the help
text, the automatic answer, the answer to an urgent message, and the alert to the on-duty
staff. They go through the outbox like every other message (so a crash loses none), at once
and whatever the hour."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from victim_notify.agencies.config import AgencyConfig, cached_config
from victim_notify.contacts.models import Contact, ContactKind
from victim_notify.contacts.normalise import display_phone
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.render import new_details_key, render_answer
from victim_notify.messages.schedule import TemplateBook, snapshot

if TYPE_CHECKING:
    from victim_notify.intake.models import Report
    from victim_notify.replies.models import InboundMessage

# How long an answer may wait (a worker outage) before it is no longer worth sending.
MAX_AGE: dict[str, dt.timedelta] = {
    MessageKind.OPT_OUT_CONFIRMATION: dt.timedelta(hours=24),
    MessageKind.OPT_IN_CONFIRMATION: dt.timedelta(hours=24),
    MessageKind.HELP: dt.timedelta(hours=1),
    MessageKind.AUTO_REPLY: dt.timedelta(hours=1),
    MessageKind.URGENT_ANSWER: dt.timedelta(hours=1),
    MessageKind.STAFF_ALERT: dt.timedelta(hours=24),
}


def answer_context(config: AgencyConfig, report: Report | None) -> dict[str, object]:
    agency = config.agency
    context: dict[str, object] = {
        "agency_name": agency.name,
        "agency_short_name": agency.short_name,
        "agency_phone": display_phone(agency.main_phone) if agency.main_phone else "",
        "report_number": "",
        "substation_name": "",
        "substation_phone": "",
        "section_name": "",
        "section_phone": "",
        "is_guardian": False,
        "is_update": False,
    }
    if report is not None and report.offense_codes and report.offense_codes[0] in config.offenses:
        facts = snapshot(report, config)
        offense = config.offenses[facts.offense_code]
        division = config.divisions[facts.division_code]
        context.update(
            report_number=report.report_number,
            substation_name=division.substation_name,
            substation_phone=display_phone(division.substation_phone),
            section_name=offense.section_name,
            section_phone=display_phone(offense.section_phone),
        )
    return context


def queue_answer(kind: str, inbound: InboundMessage, language: str) -> Notification:
    """Render an answer to `inbound` in the agency's wording and put it in the outbox."""
    assert inbound.agency_id is not None
    config = cached_config(inbound.agency_id)
    language = config.language_for(language)
    template = TemplateBook(config).get(kind, inbound.channel, language)
    rendered = render_answer(
        template, answer_context(config, inbound.report), config, inbound.channel, language
    )
    now = timezone.now()
    return Notification.objects.create(
        agency_id=inbound.agency_id,
        report=inbound.report,
        party=inbound.party,
        in_reply_to=inbound,
        contact=inbound.contact,
        kind=kind,
        channel=inbound.channel,
        language=language,
        facts_key="",
        template=template,
        **rendered.content(),
        status=Status.PENDING,
        due_at=now,
        not_before=now,
        expires_at=now + MAX_AGE[kind],
    )


def queue_staff_alert(inbound: InboundMessage) -> Notification | None:
    """Email the agency's on-duty address about an urgent reply. Staff need to act on it, so
    it carries the message and who sent it; it goes to the agency's own address only."""
    assert inbound.agency_id is not None
    config = cached_config(inbound.agency_id)
    agency = inbound.agency  # read now: the on-duty address may have just changed
    if agency is None or not agency.on_duty_email:
        return None
    staff = Contact.objects.get_or_add(ContactKind.EMAIL, agency.on_duty_email.lower())
    sender = inbound.contact.value
    context = {
        "agency": agency,
        "reply": inbound,
        "sender": display_phone(sender) if inbound.channel == "sms" else sender,
        "received": timezone.localtime(inbound.received_at, config.zone),
        "link": f"{settings.PUBLIC_URL}/admin/replies/inboundmessage/{inbound.pk}/change/",
    }
    subject = "URGENT reply from a victim" + (
        f" about report {inbound.report.report_number}" if inbound.report else ""
    )
    now = timezone.now()
    return Notification.objects.create(
        agency=agency,
        report=inbound.report,
        party=inbound.party,
        in_reply_to=inbound,
        contact=staff,
        kind=MessageKind.STAFF_ALERT,
        channel="email",
        language="en",
        facts_key="",
        subject=subject,
        body=render_to_string("messages/staff_alert.txt", context),
        details_key=new_details_key(),
        status=Status.PENDING,
        due_at=now,
        not_before=now,
        expires_at=now + MAX_AGE[MessageKind.STAFF_ALERT],
    )
