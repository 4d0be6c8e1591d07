"""What happens when someone writes back, by text or email, whatever the provider.

In order of precedence, since words collide:
1. an opt-out, as a keyword (STOP, ALTO…) or in free words ("please stop texting me"), always
   wins: the contact is opted out of every agency sending from that number or address, and
   gets one confirmation, then silence;
2. a bare HELP (AYUDA, INFO) gets the help text, which opens with "Emergency? Call 911";
3. an answer to the survey question waiting for this contact is recorded and the next question
   asked (YES and SÍ included: they answer the question);
4. START or UNSTOP opts back in; YES or SÍ does only for a contact that opted out;
5. anything else is a message: an urgent one (a threat, the offender back, self-harm) is
   answered with the 911 text at once and emailed to the agency's on-duty address; the rest
   get the agency's automatic answer, at most once a day per sender.
Every message is stored, linked to the report it most likely answers: the latest notice to
that contact from the agency.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import Contact, ContactKind, OptOut, OptOutSource
from victim_notify.contacts.normalise import normalise_email, normalise_phone
from victim_notify.contacts.optouts import opt_in, opt_out
from victim_notify.messages.answers import queue_answer, queue_staff_alert
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.replies import matchers
from victim_notify.replies.models import InboundMessage, Intent
from victim_notify.surveys.conversation import open_survey, take_answer

log = logging.getLogger(__name__)

AUTO_REPLY_EVERY = dt.timedelta(hours=24)
URGENT_ANSWER_EVERY = dt.timedelta(minutes=15)  # urgent answers too must not loop
_SPANISH_KEYWORDS = {"alto", "parar", "cancelar", "basta", "ayuda", "si"}
_REACHED = [Status.SENDING, Status.SENT, Status.DELIVERED, Status.OUTCOME_UNKNOWN]


def agencies_for(channel: str, to_address: str) -> list[Agency]:
    """The agencies that send from this number or address (several may share one)."""
    if channel == "sms":
        return list(Agency.objects.filter(sms_from=to_address).order_by("pk"))
    address = to_address.lower()
    return [
        a
        for a in Agency.objects.order_by("pk")
        if address in {a.reply_to.lower(), a.sender_email.lower()}
    ]


def _contact(channel: str, sender: str, region: str) -> Contact | None:
    normalised = normalise_phone(sender, region) if channel == "sms" else normalise_email(sender)
    if normalised.value is None:
        return None
    kind = ContactKind.PHONE if channel == "sms" else ContactKind.EMAIL
    return Contact.objects.get_or_add(kind, normalised.value)


def receive(
    *,
    channel: str,
    to_address: str,
    from_address: str,
    body: str,
    provider: str,
    provider_message_id: str,
    provider_answered: str = "",
) -> InboundMessage | None:
    """Store and act on one incoming message. `provider_answered` is the keyword a provider
    already answered itself (Twilio's Advanced Opt-Out: "STOP", "START" or "HELP"): it is
    recorded, and we send no second confirmation. Returns None for a sender address that
    cannot be read. Receiving the same provider message twice does nothing the second time."""
    existing = InboundMessage.objects.filter(
        provider=provider, provider_message_id=provider_message_id
    ).first()
    if existing is not None:
        return existing
    agencies = agencies_for(channel, to_address)
    region = agencies[0].phone_region if agencies else "US"
    contact = _contact(channel, from_address, region)
    if contact is None:
        log.warning("reply from an unreadable address", extra={"provider": provider})
        return None
    try:
        with transaction.atomic():
            return _receive(
                channel,
                to_address,
                body,
                provider,
                provider_message_id,
                provider_answered,
                agencies,
                contact,
            )
    except IntegrityError:  # the same webhook, delivered twice at once
        return InboundMessage.objects.get(
            provider=provider, provider_message_id=provider_message_id
        )


def _receive(
    channel: str,
    to_address: str,
    body: str,
    provider: str,
    provider_message_id: str,
    provider_answered: str,
    agencies: list[Agency],
    contact: Contact,
) -> InboundMessage:
    last = (
        Notification.objects.filter(
            agency__in=agencies, contact=contact, kind=MessageKind.REPORT_FILED, status__in=_REACHED
        )
        .select_related("report", "party")
        .order_by("-sent_at", "-created_at")
        .first()
    )
    agency = last.agency if last else (agencies[0] if agencies else None)
    word = matchers.keyword(body) if not provider_answered else _provider_word(provider_answered)
    normal = matchers.normalise(body)
    # Answer in the language the person wrote in, when that is clear: someone told in English
    # who writes back in Spanish must understand the answer (it may be "call 911").
    language = matchers.reply_language(body) or (
        last.language if last else ("es" if normal in _SPANISH_KEYWORDS else "")
    )
    opted_out = (
        agency is not None
        and OptOut.objects.filter(agency=agency, contact=contact, revoked_at=None).exists()
    )

    # Whatever else it is, a message can say someone is in danger ("stop texting me, he's
    # outside"): that is never lost behind an opt-out, a keyword or a survey.
    urgent_terms = matchers.urgency(body)
    survey = None
    if word == "opt_out" or (word is None and matchers.is_opt_out(body)):
        intent = Intent.OPT_OUT
    elif word == "help":
        intent = Intent.HELP
    elif not urgent_terms and (survey := open_survey([a.pk for a in agencies], contact)):
        intent = Intent.SURVEY_ANSWER  # "YES" to a survey question is an answer, not an opt-in
        agency, language = survey.experiment.agency, survey.language
        last = last if last and last.report_id == survey.report_id else None
    elif word == "opt_in" and (normal not in {"yes", "si"} or opted_out):
        intent = Intent.OPT_IN
    else:
        intent = Intent.MESSAGE

    message = InboundMessage.objects.create(
        agency=agency,
        channel=channel,
        contact=contact,
        to_address=to_address,
        body=body,
        provider=provider,
        provider_message_id=provider_message_id,
        in_answer_to=last,
        report=survey.report if survey else last.report if last else None,
        party=survey.party if survey else last.party if last else None,
        language=language,
        intent=intent,
        urgent=bool(urgent_terms),
        urgent_terms=urgent_terms,
    )
    if agency is None:
        log.warning("reply to a number or address no agency sends from")
        return message
    language = language or agency.default_language
    # Email senders are easy to forge: only someone we wrote to gets an answer by email, so
    # spam to the reply-to address cannot turn us into a source of backscatter.
    answered_by_provider = bool(provider_answered) or (channel == "email" and last is None)

    if message.urgent:
        # Safety first: the 911 answer goes even to a contact who opted out, since they wrote;
        # a bare HELP already gets the help text, which opens with it.
        if intent != Intent.HELP and not _answered_since(
            agency, contact, URGENT_ANSWER_EVERY, [MessageKind.URGENT_ANSWER]
        ):
            queue_answer(MessageKind.URGENT_ANSWER, message, language)
        queue_staff_alert(message)

    if intent == Intent.OPT_OUT:
        source = OptOutSource.PROVIDER if answered_by_provider else OptOutSource.REPLY
        new = [
            opt_out(a, contact, source=source, actor_label=f"reply {message.pk}") for a in agencies
        ]
        if any(new) and not answered_by_provider:
            queue_answer(MessageKind.OPT_OUT_CONFIRMATION, message, language)
    elif intent == Intent.OPT_IN:
        for a in agencies:
            opt_in(a, contact, actor_label=f"reply {message.pk}")
        if not answered_by_provider:
            queue_answer(MessageKind.OPT_IN_CONFIRMATION, message, language)
    elif intent == Intent.HELP:
        if not answered_by_provider:
            queue_answer(MessageKind.HELP, message, language)
    elif intent == Intent.SURVEY_ANSWER and survey is not None:
        take_answer(survey, body, message, message.received_at)
    elif (
        not message.urgent
        and not opted_out
        and not _answered_since(
            agency, contact, AUTO_REPLY_EVERY, [MessageKind.AUTO_REPLY, MessageKind.URGENT_ANSWER]
        )
    ):
        queue_answer(MessageKind.AUTO_REPLY, message, language)
    return message


def _provider_word(answered: str) -> str | None:
    return {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}.get(answered.upper())


def _answered_since(
    agency: Agency, contact: Contact, window: dt.timedelta, kinds: list[str]
) -> bool:
    return (
        Notification.objects.filter(
            agency=agency,
            contact=contact,
            kind__in=kinds,
            created_at__gte=timezone.now() - window,
        )
        .exclude(status=Status.CANCELLED)
        .exists()
    )
