"""Turning a report into the words a victim reads: the 8 facts, in their language, as a text
that fits the agency's segment cap and as a multipart email in the agency's layout."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, TypedDict

from django.core import signing
from django.template.loader import render_to_string
from django.utils import dateformat, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.html import linebreaks
from django.utils.safestring import mark_safe

from victim_notify.agencies.config import AgencyConfig
from victim_notify.contacts.normalise import display_phone
from victim_notify.messages import sms
from victim_notify.messages.templating import compile_html, compile_text

DETAILS_SALT = "victim_notify.details"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_DATE_FORMATS = {"en": r"M j, Y, g:i A", "es": r"j \d\e F \d\e Y, H:i \h"}


class TemplateParts(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def compact_text(self) -> str: ...
    @property
    def html(self) -> str: ...


class RenderOptions(TypedDict):
    """Who a report-filed notice is for, as render_sms and render_email take it."""

    recipient_name: str
    is_guardian: bool
    is_update: bool


@dataclass(frozen=True)
class Facts:
    """The 8 key facts of the case study, in one language, ready to show."""

    report_number: str
    offense_code: str
    offense_title: str
    officer_name: str
    officer_badge: str
    reported_at: str
    explanation: str
    explanation_short: str
    next_steps: str
    next_steps_short: str
    substation_name: str
    substation_phone: str
    section_name: str
    section_phone: str
    section_hours: str


@dataclass(frozen=True)
class ReportSnapshot:
    """What rendering needs from a report, whatever it was loaded from."""

    report_number: str
    offense_code: str  # the most serious offense
    officer_name: str
    officer_badge: str
    reported_at: dt.datetime
    division_code: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str
    segments: int
    encoding: str
    details_key: str

    def content(self) -> dict[str, object]:
        """The Notification fields this rendering fills."""
        return {
            "subject": self.subject,
            "body": self.body,
            "html": self.html,
            "segments": self.segments,
            "encoding": self.encoding,
            "details_key": self.details_key,
            "has_details_link": "/d/" in self.body,
        }


def format_when(value: dt.datetime, config: AgencyConfig, language: str) -> str:
    return _format_minute(value.replace(second=0, microsecond=0), config.zone.key, language)


@lru_cache(maxsize=8192)
def _format_minute(value: dt.datetime, zone: str, language: str) -> str:
    # Reports cluster in time, so a burst of them shares a few hundred distinct minutes.
    local = value.astimezone(zoneinfo.ZoneInfo(zone))
    with translation.override(language):
        return dateformat.format(local, _DATE_FORMATS.get(language, _DATE_FORMATS["en"]))


def facts_for(report: ReportSnapshot, config: AgencyConfig, language: str) -> Facts:
    offense = config.offenses[report.offense_code]
    words = offense.words.get(language) or offense.words[config.agency.default_language]
    division = config.divisions[report.division_code]
    return Facts(
        report_number=report.report_number,
        offense_code=offense.code,
        offense_title=words.title,
        officer_name=report.officer_name,
        officer_badge=report.officer_badge,
        reported_at=format_when(report.reported_at, config, language),
        explanation=words.explanation,
        explanation_short=words.explanation_short,
        next_steps=words.next_steps,
        next_steps_short=words.next_steps_short,
        substation_name=division.substation_name,
        substation_phone=display_phone(division.substation_phone),
        section_name=offense.section_name,
        section_phone=display_phone(offense.section_phone),
        section_hours=offense.section_hours,
    )


def facts_key(kind: str, report: ReportSnapshot, config: AgencyConfig) -> str:
    """Identifies what a message tells, whatever the language or the recipient. A new key
    means the victim would learn something different, so a new message is due."""
    offense = config.offenses[report.offense_code]
    division = config.divisions[report.division_code]
    parts = [
        kind,
        report.report_number,
        report.offense_code,
        report.officer_name,
        report.officer_badge,
        report.reported_at.astimezone(dt.UTC).isoformat(),
        division.substation_phone,
        offense.section_phone,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def new_details_key() -> str:
    return secrets.token_urlsafe(9)


def details_token(details_key: str) -> str:
    """The key and a truncated HMAC of it under the site's secret: short enough for a text,
    impossible to forge or to guess. The page enforces the agency's expiry."""
    mac = salted_hmac(DETAILS_SALT, details_key, algorithm="sha256").digest()[:12]
    return f"{details_key}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def read_details_token(token: str) -> str:
    """The details key in a genuine link (else BadSignature)."""
    key, _, _ = token.partition(".")
    if not key or not constant_time_compare(details_token(key), token):
        raise signing.BadSignature("not a details link")
    return key


def details_url(config: AgencyConfig, details_key: str) -> str:
    return f"{config.agency.public_base_url.rstrip('/')}/d/{details_token(details_key)}"


def _context(
    facts: Facts,
    config: AgencyConfig,
    recipient_name: str,
    is_guardian: bool,
    is_update: bool,
    url: str,
) -> dict[str, object]:
    agency = config.agency
    return {
        **vars(facts),  # a shallow copy; dataclasses.asdict deep-copies and is slow here
        "agency_name": agency.name,
        "agency_short_name": agency.short_name,
        "recipient_name": recipient_name,
        "is_guardian": is_guardian,
        "is_update": is_update,
        "details_url": url,
    }


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters: whole sentences when they fit, else cut at a word and
    marked. Never longer than asked for, or the loop in render_sms would never end."""
    if len(text) <= limit:
        return text
    sentences = _SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}".strip()
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    cut = text[: limit - 3].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "..."


def render_sms(
    template: TemplateParts,
    facts: Facts,
    config: AgencyConfig,
    *,
    recipient_name: str,
    is_guardian: bool,
    is_update: bool,
) -> Rendered:
    """The full text when it fits the agency's segment cap; else the compact form with a link
    to the details page, its explanation and next steps shortened until it fits. A cut that
    saves no segment is not kept: it would only lose words."""
    key = new_details_key()
    url = details_url(config, key)
    context = _context(facts, config, recipient_name, is_guardian, is_update, url)
    cap = config.agency.sms_segment_cap

    def rendered(source: str) -> tuple[str, sms.SmsCost]:
        body = sms.replace_lookalikes(compile_text(source).render(context)).strip()
        return body, sms.cost(body)

    best = rendered(template.text)
    if best[1].segments > cap and template.compact_text:
        best = rendered(template.compact_text)
        explanation, steps = facts.explanation_short, facts.next_steps_short
        while True:
            context.update(explanation_short=explanation, next_steps_short=steps)
            candidate = rendered(template.compact_text)
            if candidate[1].segments < best[1].segments:
                best = candidate
            if best[1].segments <= cap or (len(explanation) <= 40 and len(steps) <= 40):
                break
            # Cut the longer of the two by about what is too much, no more: every word kept
            # is one the victim reads.
            per_segment = 153 if candidate[1].encoding == "GSM-7" else 67
            over = max(5, candidate[1].units - cap * per_segment)
            if len(explanation) >= len(steps):
                explanation = _shorten(explanation, max(40, len(explanation) - over))
            else:
                steps = _shorten(steps, max(40, len(steps) - over))
    body, cost = best
    return Rendered("", body, "", cost.segments, cost.encoding, key)


def render_email(
    template: TemplateParts,
    facts: Facts,
    config: AgencyConfig,
    language: str,
    *,
    recipient_name: str,
    is_guardian: bool,
    is_update: bool,
) -> Rendered:
    key = new_details_key()
    url = details_url(config, key)
    context = _context(facts, config, recipient_name, is_guardian, is_update, url)
    notice = config.statutory_notices.get(language, "")
    return _email(template, context, config, language, notice, key)


def open_pixel_url(config: AgencyConfig, details_key: str) -> str:
    return f"{config.agency.public_base_url.rstrip('/')}/o/{details_token(details_key)}.gif"


def _email(
    template: TemplateParts,
    context: dict[str, object],
    config: AgencyConfig,
    language: str,
    notice: str,
    details_key: str,
) -> Rendered:
    """Subject, plain text and HTML in the agency's layout. A template without HTML of its own
    (the short answers) shows its text, escaped, in the same layout."""
    subject = " ".join(compile_text(template.subject).render(context).split())
    text_body = compile_text(template.text).render(context).strip()
    if template.html:
        inner_html = compile_html(template.html).render(context)
    else:
        inner_html = linebreaks(text_body, autoescape=True)
    return _layout(subject, text_body, inner_html, config, language, notice, details_key)


def render_fixed(
    channel: str, subject: str, text: str, config: AgencyConfig, language: str, notice: str = ""
) -> Rendered:
    """A message whose wording is ours, not an agency template (the rights notice, survey
    questions): the same layout, footer and SMS counting, and no template language, so a
    brace in a victim-facing text cannot break it."""
    if channel == "email":
        html = linebreaks(text.strip(), autoescape=True)
        return _layout(subject, text.strip(), html, config, language, notice, new_details_key())
    body = sms.replace_lookalikes(text).strip()
    cost = sms.cost(body)
    return Rendered("", body, "", cost.segments, cost.encoding, new_details_key())


def _layout(
    subject: str,
    text_body: str,
    inner_html: str,
    config: AgencyConfig,
    language: str,
    notice: str,
    details_key: str,
) -> Rendered:
    with translation.override(language):
        html = render_to_string(
            "messages/email.html",
            {
                "agency": config.agency,
                "subject": subject,
                "body": mark_safe(inner_html),  # noqa: S308 - autoescaped above
                "statutory_notice": notice,
                "language": language,
                "pixel_url": open_pixel_url(config, details_key),
            },
        )
        footer = render_to_string(
            "messages/email_footer.txt", {"agency": config.agency, "statutory_notice": notice}
        )
    return Rendered(subject, f"{text_body}\n\n{footer.strip()}\n", html, 0, "", details_key)


def render_answer(
    template: TemplateParts,
    context: dict[str, object],
    config: AgencyConfig,
    channel: str,
    language: str,
) -> Rendered:
    """A confirmation, help text or automatic answer. Never shortened: they are short."""
    if channel == "email":
        return _email(template, context, config, language, "", new_details_key())
    body = sms.replace_lookalikes(compile_text(template.text).render(context)).strip()
    cost = sms.cost(body)
    return Rendered("", body, "", cost.segments, cost.encoding, new_details_key())
