"""The survey as a conversation: sent to both groups under the same conditions, N days after
the report, inside allowed hours, in the person's language, one question at a time.

An answer that cannot be read is asked again once, then skipped. STOP ends it at once (the
opt-out path closes the survey). Someone we cannot text gets an email with the same survey as
a web form. A question left unanswered for the experiment's window closes the survey, and the
report counts that person as not responding rather than leaving them out."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from victim_notify.agencies.config import AgencyConfig, cached_config
from victim_notify.contacts.models import Contact, OptOut
from victim_notify.intake.models import Party
from victim_notify.messages.models import MessageKind, Notification, Status
from victim_notify.messages.render import render_fixed
from victim_notify.messages.schedule import quiet_hours
from victim_notify.messages.timing import hold_for_quiet_hours
from victim_notify.rules.eligibility import decide_report
from victim_notify.rules.facts import report_facts
from victim_notify.surveys.models import (
    Experiment,
    Participant,
    Question,
    Response,
    SurveyStatus,
)
from victim_notify.surveys.parsing import CHANNEL_OPTIONS, parse_answer
from victim_notify.surveys.questionnaire import wording

if TYPE_CHECKING:
    from victim_notify.replies.models import InboundMessage

log = logging.getLogger(__name__)

# How long a survey message may wait (a worker outage) before it is not worth sending.
MESSAGE_MAX_AGE = dt.timedelta(hours=24)


def survey_url(config: AgencyConfig, participant: Participant) -> str:
    return f"{config.agency.public_base_url.rstrip('/')}/s/{participant.web_key}"


def reachable_channel(participant: Participant) -> tuple[str, Contact | None, str]:
    """The channel and contact to survey on now, or no contact and why not. The report is
    decided again as it is now: an amendment that made it unsafe (say, to domestic violence),
    an opt-out or a dead number since enrolment all stop the survey."""
    report = participant.report
    party = participant.party
    if report is None or party is None:
        return "", None, "the report is gone"
    config = cached_config(report.agency_id)
    parties = list(Party.objects.filter(report=report))
    ids = {cid for p in parties for cid in (p.phone_id, p.email_id) if cid}
    values = dict(Contact.objects.filter(pk__in=ids).values_list("pk", "value"))
    dead = set(
        Contact.objects.filter(pk__in=ids, undeliverable_at__isnull=False).values_list(
            "value", flat=True
        )
    )
    opted_out = set(
        OptOut.objects.filter(
            agency_id=report.agency_id, revoked_at=None, contact_id__in=ids
        ).values_list("contact__value", flat=True)
    )
    facts = report_facts(report, parties, config, values)
    outcomes, _ = decide_report(facts, config.policy, opted_out, dead, as_if_live=True)
    mine = [o for o in outcomes if o.party_id == party.party_id]
    by_value = {v: k for k, v in values.items()}
    for channel in ("sms", "email"):
        for outcome in mine:
            if outcome.channel == channel and outcome.send and outcome.contact in by_value:
                return channel, Contact.objects.get(pk=by_value[outcome.contact]), ""
    if any("opted_out" in o.reason_codes for o in mine):
        return "", None, "opted_out"
    reasons = sorted({code for o in mine for code in o.reason_codes})
    return "", None, ", ".join(reasons) or "no contact"


def start_due_surveys(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Send the first question (or the email invitation) to everyone whose survey is due."""
    now = now or timezone.now()
    started = 0
    due = Participant.objects.filter(survey_status=SurveyStatus.WAITING, survey_due_at__lte=now)
    for participant in due.select_related("experiment", "report", "party")[:limit]:
        with transaction.atomic():
            claimed = Participant.objects.filter(
                pk=participant.pk, survey_status=SurveyStatus.WAITING
            ).update(survey_status=SurveyStatus.ASKED, asked_at=now)
            if not claimed:
                continue  # another worker took it
            channel, contact, why = reachable_channel(participant)
            if contact is None:
                status = SurveyStatus.STOPPED if why == "opted_out" else SurveyStatus.UNREACHABLE
                Participant.objects.filter(pk=participant.pk).update(
                    survey_status=status, survey_status_reason=why[:200], finished_at=now
                )
                continue
            participant.survey_status = SurveyStatus.ASKED
            participant.survey_channel, participant.survey_contact = channel, contact
            participant.asked_at = now
            participant.save(update_fields=["survey_channel", "survey_contact"])
            if channel == "sms":
                _ask(participant, now, first=True)
            else:
                _invite(participant, now)
            started += 1
    return started


def _questions(participant: Participant) -> list[Question]:
    return list(participant.experiment.questions.all())


def _context(participant: Participant, config: AgencyConfig) -> dict[str, object]:
    return {
        "agency": config.agency.name,
        "report_number": participant.report.report_number if participant.report else "",
        "count": len(_questions(participant)),
        "link": survey_url(config, participant),
    }


def _queue(
    participant: Participant,
    kind: str,
    text: str,
    now: dt.datetime,
    *,
    subject: str = "",
    in_reply_to: InboundMessage | None = None,
) -> Notification:
    """Put one survey message in the outbox. The first question waits for allowed hours; a
    message that answers what the person just wrote goes at once, as every answer does."""
    config = cached_config(participant.experiment.agency_id)
    assert participant.survey_contact is not None
    channel = participant.survey_channel
    rendered = render_fixed(channel, subject, text, config, participant.language)
    expires = now + MESSAGE_MAX_AGE
    not_before = now
    if channel == "sms" and in_reply_to is None:
        not_before, expires = hold_for_quiet_hours(now, expires, quiet_hours(config))
    return Notification.objects.create(
        agency_id=participant.experiment.agency_id,
        report=participant.report,
        party=participant.party,
        contact=participant.survey_contact,
        in_reply_to=in_reply_to,
        kind=kind,
        channel=channel,
        language=participant.language,
        facts_key=f"survey:{participant.pk}",
        **rendered.content(),
        status=Status.PENDING,
        due_at=now,
        not_before=not_before,
        expires_at=expires,
    )


def _ask(
    participant: Participant,
    now: dt.datetime,
    *,
    first: bool = False,
    again: bool = False,
    in_reply_to: InboundMessage | None = None,
) -> None:
    config = cached_config(participant.experiment.agency_id)
    question = _questions(participant)[participant.current_question]
    text = question.text(participant.language).replace("{agency}", config.agency.name)
    if first:
        text = wording(participant.language, "intro").format(**_context(participant, config)) + (
            "\n\n" + text
        )
    elif again:
        text = wording(participant.language, "reask") + text
    _queue(participant, MessageKind.SURVEY_QUESTION, text, now, in_reply_to=in_reply_to)
    Participant.objects.filter(pk=participant.pk).update(asked_at=now)


def _invite(participant: Participant, now: dt.datetime) -> None:
    config = cached_config(participant.experiment.agency_id)
    context = _context(participant, config)
    _queue(
        participant,
        MessageKind.SURVEY_INVITATION,
        wording(participant.language, "invitation").format(**context),
        now,
        subject=wording(participant.language, "subject").format(**context),
    )


def parse_for(question: Question, text: str) -> str | None:
    options = [o for o in CHANNEL_OPTIONS if o.key in question.options] if question.options else []
    return parse_answer(question.kind, text, options, also_yes_no=question.also_yes_no)


def open_survey(agency_ids: list[int], contact: Contact) -> Participant | None:
    """The survey now waiting for this contact's answer, if any."""
    return (
        Participant.objects.filter(
            experiment__agency_id__in=agency_ids,
            survey_contact=contact,
            survey_status=SurveyStatus.ASKED,
            survey_channel="sms",
        )
        .select_related("experiment", "report", "party")
        .order_by("-asked_at")
        .first()
    )


def take_answer(
    participant: Participant, text: str, inbound: InboundMessage | None, now: dt.datetime
) -> bool:
    """Record a texted answer to the current question and ask the next one (or again, once,
    when it cannot be read). Returns whether the answer could be read."""
    questions = _questions(participant)
    question = questions[participant.current_question]
    value = parse_for(question, text)
    Response.objects.create(
        participant=participant,
        question_key=question.key,
        raw=text[:2000],
        value=value or "",
        source="sms",
        inbound=inbound,
        received_at=now,
    )
    if value is None and not participant.reasked:
        participant.reasked = True
        participant.save(update_fields=["reasked"])
        _ask(participant, now, again=True, in_reply_to=inbound)
        return False
    _advance(participant, questions, now, in_reply_to=inbound)
    return value is not None


def _advance(
    participant: Participant,
    questions: list[Question],
    now: dt.datetime,
    in_reply_to: InboundMessage | None,
) -> None:
    participant.current_question += 1
    participant.reasked = False
    if participant.current_question < len(questions):
        participant.save(update_fields=["current_question", "reasked"])
        _ask(participant, now, in_reply_to=in_reply_to)
        return
    participant.survey_status = SurveyStatus.COMPLETED
    participant.finished_at = now
    participant.save(update_fields=["current_question", "reasked", "survey_status", "finished_at"])
    config = cached_config(participant.experiment.agency_id)
    _queue(
        participant,
        MessageKind.SURVEY_THANKS,
        wording(participant.language, "thanks").format(agency=config.agency.name),
        now,
        in_reply_to=in_reply_to,
    )


def take_web_answers(participant: Participant, answers: dict[str, str], now: dt.datetime) -> None:
    """Answers from the web form: every question at once. Questions already answered by text
    keep their first answer; the survey is then complete and no more questions are texted."""
    answered = set(participant.responses.exclude(value="").values_list("question_key", flat=True))
    for question in _questions(participant):
        value = answers.get(question.key, "")
        if value and question.key not in answered:
            Response.objects.create(
                participant=participant,
                question_key=question.key,
                raw=value,
                value=value,
                source="web",
                received_at=now,
            )
    Participant.objects.filter(pk=participant.pk).update(
        survey_status=SurveyStatus.COMPLETED, finished_at=now
    )
    Notification.objects.filter(facts_key=f"survey:{participant.pk}", status=Status.PENDING).update(
        status=Status.CANCELLED, status_reason_codes=["survey_answered"], finished_at=now
    )


def close_quiet_surveys(now: dt.datetime | None = None) -> int:
    """Surveys whose question has waited past the experiment's window: closed, counted as
    not responding (or as partly answered) in the report."""
    now = now or timezone.now()
    closed = 0
    answered = Exists(Response.objects.filter(participant=OuterRef("pk")).exclude(value=""))
    for experiment in Experiment.objects.filter(
        participants__survey_status=SurveyStatus.ASKED
    ).distinct():
        quiet = Participant.objects.filter(
            experiment=experiment,
            survey_status=SurveyStatus.ASKED,
            asked_at__lte=now - dt.timedelta(days=experiment.survey_window_days),
        )
        closed += quiet.filter(answered).update(survey_status=SurveyStatus.PARTIAL, finished_at=now)
        closed += quiet.update(survey_status=SurveyStatus.NO_RESPONSE, finished_at=now)
    return closed


def stop_surveys(agency_ids: list[int], contact: Contact) -> int:
    """Someone opted out: their survey ends now, and the report counts them as stopped."""
    return Participant.objects.filter(
        experiment__agency_id__in=agency_ids,
        survey_contact=contact,
        survey_status=SurveyStatus.ASKED,
    ).update(survey_status=SurveyStatus.STOPPED, finished_at=timezone.now())
