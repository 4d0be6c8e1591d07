"""Reason codes for decisions, and the sentence a supervisor reads for each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

CATEGORY_WORDS = {
    "domestic_violence": "domestic violence",
    "sexual_offense": "a sexual offense",
    "child_abuse": "child abuse",
    "death": "a homicide or death investigation",
    "suicide": "a suicide",
    "human_trafficking": "human trafficking",
    "stalking": "stalking",
}

_SENTENCES = {
    "eligible": "Every rule allows it",
    "assumed_adult": (
        "the record gives no date of birth or juvenile flag, so the person is treated as an adult"
    ),
    "guardian_of_minor": "written to as the parent or guardian of the minor victim (party {minor})",
    "report_not_approved": "the report's status is '{status}', which is not an approved status",
    "do_not_notify": "the officer marked the report do-not-notify",
    "domestic_violence_flag": "the report is flagged as domestic violence",
    "domestic_violence_relationship": (
        "the victim and suspect are related ({codes}), so the case is treated as domestic violence"
    ),
    "division_not_live": "division {division} was not live on the report date (go-live: {go_live})",
    "unknown_offense": "offense {offense} is not in the agency's offense table",
    "suspect": "the person is a suspect",
    "role_not_notified": "a {role} is not notified",
    "reporting_parties_off": "the agency does not notify reporting parties",
    "guardian_of_no_minor": "a parent or guardian is only written to about a minor victim",
    "business": "the agency does not notify businesses",
    "minor": "the person is a minor, so their parent or guardian is told instead",
    "minor_without_guardian": "the person is a minor and no parent or guardian is listed",
    "minor_not_victim": (
        "the person is a minor, and a parent or guardian is only written to about a minor victim"
    ),
    "shares_contact_with_suspect": (
        "the person's phone or email is also the suspect's; a victim advocate should follow up"
    ),
    "channel_off": "the agency has {channel} messages turned off",
    "no_phone": "no phone number was given",
    "invalid_phone": "the phone number given is not valid",
    "landline": "the phone number is a landline",
    "no_email": "no email address was given",
    "invalid_email": "the email address given is not valid",
    "opted_out": "this contact opted out of {channel} messages from the agency",
    "same_contact_as_other_party": (
        "the same contact is already written to for party {other} on this report"
    ),
    "already_notified": "this contact was already told these facts about this report",
    "already_attempted": "a message with these facts to this contact already ended as '{status}'",
    "template_failed": (
        "the agency's {channel} template could not be rendered, so nothing was sent; "
        "someone must check the template"
    ),
    "contact_undeliverable": (
        "an earlier message to this contact failed for good (a landline, an unknown number, "
        "a mailbox that does not exist)"
    ),
    "text_first": (
        "the agency emails only people who get no text; an email follows if the text fails"
    ),
    "fallback_after_failure": "the text (or email) to this person failed for good",
    "superseded": "a newer version of the report changed what the message says",
    "contact_changed": "the party's contact was corrected in a newer version of the report",
    "party_removed": "the party is no longer on the report",
    "quiet_hours": "held until quiet hours end",
    "staff_do_not_contact": "staff marked this person do not contact",
    "prefers_other_channel": "the person asked to be written to by {channel} only",
    "staff_hold": "a member of staff is holding it",
    "staff_cancelled": "a member of staff cancelled it",
    "staff_contact_corrected": "staff corrected the person's phone or email",
    "control_group": (
        "the person is in Group B of the experiment '{experiment}', which gets the agency's "
        "usual practice instead of this message; both groups get the same survey"
    ),
    "survey_not_eligible": "the report or the person no longer passes the safety rules",
    "survey_ended": "the survey ended (answered on the web, stopped, or closed)",
    "survey_answered": "the survey was answered on the web form",
    "expired": "the message was not handed over within the agency's maximum message age",
    "retries_exhausted": "the provider kept failing temporarily until retries ran out",
}

# How a channel reads in a sentence: supervisors say "text", not "sms".
CHANNEL_WORDS = {"sms": "text", "email": "email"}

for _category, _words in CATEGORY_WORDS.items():
    _SENTENCES[f"excluded_offense_{_category}"] = (
        "offense {offense} is " + _words + ", which the agency does not notify"
    )


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __init__(self, code: str, **params: str) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", params)

    def describe(self) -> str:
        template = _SENTENCES.get(self.code, self.code.replace("_", " "))
        params = dict(self.params)
        if "channel" in params:
            params["channel"] = CHANNEL_WORDS.get(params["channel"], params["channel"])
        try:
            return template.format(**params)
        except KeyError:
            return template


def known_codes() -> set[str]:
    return set(_SENTENCES)


def sentence(send: bool, channel: str | None, reasons: Iterable[Reason]) -> str:
    """One sentence a supervisor understands, e.g.
    'Text to be sent: eligible; the record gives no date of birth or juvenile flag, …'."""
    parts = [r.describe() for r in reasons]
    if send:
        head = {"sms": "Text to be sent", "email": "Email to be sent"}[channel or "sms"]
        parts[0] = parts[0][0].lower() + parts[0][1:]
    else:
        head = {"sms": "No text", "email": "No email", None: "Not contacted"}[channel]
    return f"{head}: " + "; ".join(parts) + "."
