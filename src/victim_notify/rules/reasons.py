"""Reason codes for decisions, and the sentence a supervisor reads for each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Offense sentences per category, whole, so each language can order its words.
_EXCLUDED_OFFENSE = {
    "domestic_violence": _(
        "offense {offense} is domestic violence, which the agency does not notify"
    ),
    "sexual_offense": _("offense {offense} is a sexual offense, which the agency does not notify"),
    "child_abuse": _("offense {offense} is child abuse, which the agency does not notify"),
    "death": _(
        "offense {offense} is a homicide or death investigation, which the agency does not notify"
    ),
    "suicide": _("offense {offense} is a suicide, which the agency does not notify"),
    "human_trafficking": _(
        "offense {offense} is human trafficking, which the agency does not notify"
    ),
    "stalking": _("offense {offense} is stalking, which the agency does not notify"),
}

_SENTENCES: dict[str, Any] = {
    "eligible": _("Every rule allows it"),
    "assumed_adult": _(
        "the record gives no date of birth or juvenile flag, so the person is treated as an adult"
    ),
    "guardian_of_minor": _("written to as the parent or guardian of the minor victim ({minor})"),
    "report_not_approved": _("the report's status is '{status}', which is not an approved status"),
    "do_not_notify": _("the officer marked the report do-not-notify"),
    "domestic_violence_flag": _("the report is flagged as domestic violence"),
    "domestic_violence_relationship": _(
        "the victim and suspect are related ({codes}), so the case is treated as domestic violence"
    ),
    "division_not_live": _(
        "division {division} was not live on the report date (go-live: {go_live})"
    ),
    "unknown_offense": _("offense {offense} is not in the agency's offense table"),
    "suspect": _("the person is a suspect"),
    "role_not_notified": _("a {role} is not notified"),
    "reporting_parties_off": _("the agency does not notify reporting parties"),
    "guardian_of_no_minor": _("a parent or guardian is only written to about a minor victim"),
    "business": _("the agency does not notify businesses"),
    "minor": _("the person is a minor, so their parent or guardian is told instead"),
    "minor_without_guardian": _("the person is a minor and no parent or guardian is listed"),
    "minor_not_victim": _(
        "the person is a minor, and a parent or guardian is only written to about a minor victim"
    ),
    "shares_contact_with_suspect": _(
        "the person's phone or email is also the suspect's; a victim advocate should follow up"
    ),
    "channel_off": _("the agency has {channel} messages turned off"),
    "no_phone": _("no phone number was given"),
    "invalid_phone": _("the phone number given is not valid"),
    "landline": _("the phone number is a landline"),
    "no_email": _("no email address was given"),
    "invalid_email": _("the email address given is not valid"),
    "opted_out": _("this contact opted out of {channel} messages from the agency"),
    "same_contact_as_other_party": _(
        "the same contact is already written to for {other} on this report"
    ),
    "already_notified": _("this contact was already told these facts about this report"),
    "already_attempted": _(
        "a message with these facts to this contact already ended as '{status}'"
    ),
    "template_failed": _(
        "the agency's {channel} template could not be rendered, so nothing was sent; "
        "someone must check the template"
    ),
    "contact_undeliverable": _(
        "an earlier message to this contact failed for good (a landline, an unknown number, "
        "a mailbox that does not exist)"
    ),
    "text_first": _(
        "the agency emails only people who get no text; an email follows if the text fails"
    ),
    "fallback_after_failure": _("the text (or email) to this person failed for good"),
    "superseded": _("a newer version of the report changed what the message says"),
    "contact_changed": _("the party's contact was corrected in a newer version of the report"),
    "party_removed": _("the party is no longer on the report"),
    "quiet_hours": _("held until quiet hours end"),
    "after_first_notice": _("waits until the report's first message to the person has gone"),
    "staff_do_not_contact": _("staff marked this person do not contact"),
    "prefers_other_channel": _("the person asked to be written to by {channel} only"),
    "staff_hold": _("a member of staff is holding it"),
    "staff_cancelled": _("a member of staff cancelled it"),
    "staff_contact_corrected": _("staff corrected the person's phone or email"),
    "control_group": _(
        "the person is in Group B of the experiment '{experiment}', which gets the agency's "
        "usual practice instead of this message; both groups get the same survey"
    ),
    "survey_not_eligible": _("the report or the person no longer passes the safety rules"),
    "survey_ended": _("the survey ended (answered on the web, stopped, or closed)"),
    "survey_answered": _("the survey was answered on the web form"),
    "expired": _("the message was not handed over within the agency's maximum message age"),
    "retries_exhausted": _("the provider kept failing temporarily until retries ran out"),
}
for _category, _sentence in _EXCLUDED_OFFENSE.items():
    _SENTENCES[f"excluded_offense_{_category}"] = _sentence

# How a channel reads in a sentence: supervisors say "text", not "sms".
CHANNEL_WORDS: dict[str, Any] = {
    "sms": pgettext_lazy("a channel, inside a sentence", "text"),
    "email": pgettext_lazy("a channel, inside a sentence", "email"),
}
_PARTY = _("party %(party)s")  # another person on the report, by the RMS's key
# Roles as a sentence names them.
_ROLE_WORDS: dict[str, Any] = {
    "victim": _("victim"),
    "reporting_party": _("reporting party"),
    "guardian": _("parent or guardian"),
    "suspect": _("suspect"),
    "witness": _("witness"),
}
_HEADS: dict[tuple[bool, str | None], Any] = {
    (True, "sms"): _("Text to be sent"),
    (True, "email"): _("Email to be sent"),
    (False, "sms"): _("No text"),
    (False, "email"): _("No email"),
    (False, None): _("Not contacted"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __init__(self, code: str, **params: str) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", params)

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """The reason in the active language; `names` puts people's names for the party ids
        the reason quotes."""
        template = str(_SENTENCES.get(self.code, self.code.replace("_", " ")))
        params = dict(self.params)
        if "channel" in params:
            params["channel"] = str(CHANNEL_WORDS.get(params["channel"], params["channel"]))
        if "role" in params:
            params["role"] = str(_ROLE_WORDS.get(params["role"], params["role"]))
        for key in ("minor", "other"):  # party ids, "V1" or "V1, V2"
            if key in params:
                params[key] = ", ".join(
                    (names or {}).get(party) or str(_PARTY) % {"party": party}
                    for party in params[key].split(", ")
                )
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            return template


def known_codes() -> set[str]:
    return set(_SENTENCES)


def sentence(
    send: bool,
    channel: str | None,
    reasons: Iterable[Reason],
    names: Mapping[str, str] | None = None,
) -> str:
    """One sentence a supervisor understands, in the active language, e.g.
    'Text to be sent: eligible; the record gives no date of birth or juvenile flag, …'."""
    parts = [r.describe(names) for r in reasons]
    head = str(_HEADS[(send, channel or "sms") if send else (False, channel or None)])
    if send:
        parts[0] = parts[0][0].lower() + parts[0][1:]
    return f"{head}: " + "; ".join(parts) + "."


def stored_sentence(send: bool, channel: str | None, reasons: Iterable[Reason]) -> str:
    """The sentence kept with a decision, in English: logs, exports and the command line read
    it as it was decided. Pages show it again in their reader's language (`sentence`)."""
    with translation.override("en"):
        return sentence(send, channel, reasons)


def reasons_of(codes: list[str], params: list[dict[str, str]]) -> list[Reason] | None:
    """A stored decision's reasons again, or None for one stored before its parameters were
    (its stored sentence is then all there is)."""
    if len(params) != len(codes):
        return None
    return [Reason(code, **p) for code, p in zip(codes, params, strict=True)]
