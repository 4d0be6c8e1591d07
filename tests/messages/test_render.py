"""What a victim reads: the 8 facts in every text and email, in their language, through intake,
the worker and a real SMTP server."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine

from tests.agency_data import AGENCY
from tests.conftest import make_record
from tests.fakes.smtp_server import SmtpServer
from victim_notify.agencies.models import AgencyLanguage, OffenseText
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender, sms
from victim_notify.messages.models import MessageTemplate, Notification, Status
from victim_notify.providers import registry
from victim_notify.providers.models import DevOutboxMessage

pytestmark = pytest.mark.django_db

BASE_URL = AGENCY["agency"]["public_base_url"]
NOW = dt.datetime(2026, 12, 4, 5, 0, tzinfo=dt.UTC)
REPORTED_AT = "2026-12-04T04:10:00Z"  # 9:10 PM on Dec 3 in Phoenix (UTC-7, no DST)
WHEN = {"en": "Dec 3, 2026, 9:10 PM", "es": "3 de diciembre de 2026, 21:10 h"}
NOTICE = {lang: AGENCY["languages"][lang]["statutory_notice"] for lang in ("en", "es")}
ANTI_PHISHING = {
    "en": "We will never ask you for money, passwords or personal information",
    "es": "Nunca le pediremos dinero, contraseñas ni información personal",
}


# Factories local to these tests.


def words(language: str, code: str = "23F") -> dict[str, str]:
    offense = next(o for o in AGENCY["offenses"] if o["code"] == code)
    return offense["texts"][language]


def take_in(agency, *records: dict[str, Any]):  # type: ignore[no-untyped-def]
    summary = ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )
    assert not [r for r in summary.results if r.outcome == "quarantined"], summary.as_dict()
    return summary


def run_until_quiet() -> None:
    while sender.send_due("w1"):
        pass


def record(language: str = "en", **victim: Any) -> dict[str, Any]:
    fields = {"email": "ana@example.com", "language": language, **victim}
    return make_record(reported_at=REPORTED_AT, victim=fields)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:  # type: ignore[no-untyped-def]
    with SmtpServer() as server:
        settings.EMAIL_URL = server.url
        registry.reset()
        yield server


def received_email(smtp: SmtpServer, to: str = "ana@example.com") -> EmailMessage:
    [message] = [r.message for r in smtp.received if to in r.rcpt_tos]
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def delivered_text(note: Notification) -> str:
    return DevOutboxMessage.objects.get(notification_id=note.pk).body


class _Page(HTMLParser):
    """The words a mail client shows, and every URL the HTML points at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in {"head", "style", "script"}:
            self._hidden += 1
        for name, value in attrs:
            if name in {"href", "src", "action", "background", "srcset", "poster"} and value:
                self.urls.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"head", "style", "script"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def read_html(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def shown_text(html: str) -> str:
    return " ".join(" ".join(read_html(html).text).split())


def flat(text: str) -> str:
    return " ".join(text.split())


def expected_facts(note: Notification, language: str, *, short: bool) -> list[str]:
    w = words(language)
    return [
        note.report.report_number,
        "23F",
        w["title"],
        "Dana Whitfield",
        WHEN[language],
        w["explanation_short"] if short else w["explanation"],
        w["next_steps_short"] if short else w["next_steps"],
        "(520) 555-0101",
        "(520) 555-0150",
    ]


# The 8 facts, in every channel and language.


@pytest.mark.parametrize(
    ("preferred", "language"),
    [("en", "en"), ("es", "es"), ("fr", "en")],
    ids=["english", "spanish", "unsupported-falls-back-to-default"],
)
def test_every_text_and_email_carries_the_8_facts_in_the_partys_language(
    agency, smtp, preferred, language
):
    take_in(agency, record(preferred))
    run_until_quiet()

    text = Notification.objects.get(channel="sms")
    email = Notification.objects.get(channel="email")
    assert text.language == email.language == language
    assert text.status == Status.DELIVERED and email.status == Status.SENT
    body = delivered_text(text)
    for fact in expected_facts(text, language, short=True):
        assert fact in body, fact

    plain, html = parts(received_email(smtp))
    shown = shown_text(html)
    for fact in expected_facts(email, language, short=False):
        assert fact in plain, fact
        assert fact in shown, fact


def test_report_time_is_told_in_the_agencys_zone_which_has_no_daylight_saving(agency):
    take_in(
        agency,
        make_record(reported_at="2026-07-04T04:10:00Z", occurred_at=None),
        make_record(
            reported_at="2026-07-04T04:10:00Z", occurred_at=None, victim={"language": "es"}
        ),
    )
    bodies = {n.language: n.body for n in Notification.objects.all()}
    assert "Reported: Jul 3, 2026, 9:10 PM" in bodies["en"]
    assert "3 de julio de 2026, 21:10 h" in bodies["es"]


def test_report_number_is_in_every_subject_and_every_message(agency, smtp):
    take_in(
        agency,
        record("en"),
        record("es", phone="520-555-0177", email="maria@example.com"),
    )
    run_until_quiet()
    notes = list(Notification.objects.select_related("report"))
    assert len(notes) == 4
    for note in notes:
        number = note.report.report_number
        assert number in note.body
        if note.channel == "email":
            assert number in note.subject
            message = received_email(smtp, note.contact.value)
            assert number in message["Subject"]
            plain, html = parts(message)
            assert number in plain and number in shown_text(html)
        else:
            assert number in delivered_text(note)


# Email.


@pytest.mark.parametrize("language", ["en", "es"])
def test_email_is_multipart_branded_with_the_notice_and_the_anti_phishing_footer(
    agency, smtp, language
):
    agency.brand_color = "#8a1c2b"
    agency.save()
    take_in(agency, record(language, phone=""))
    run_until_quiet()

    message = received_email(smtp)
    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "Testville Police Department <notify@testville.example>"
    plain, html = parts(message)
    assert f'lang="{language}"' in html
    assert "#8a1c2b" in html
    assert shown_text(html).startswith("Testville Police Department")  # the title bar
    for part in (plain, shown_text(html)):
        assert NOTICE[language] in flat(part)
        assert ANTI_PHISHING[language] in flat(part)
        assert "notify@testville.example" in part
    other = "es" if language == "en" else "en"
    assert NOTICE[other] not in plain and ANTI_PHISHING[other] not in plain


@pytest.mark.parametrize(
    "name", ["<script>alert(1)</script>", 'O\'Brien & "Sons"'], ids=["script", "quotes"]
)
def test_victims_name_is_escaped_in_html_and_exact_in_plain_text(agency, smtp, name):
    take_in(agency, record("en", phone="", first_name=name))
    run_until_quiet()

    plain, html = parts(received_email(smtp))
    assert f"Dear {name}," in plain
    assert f"Dear {name}," in shown_text(html)  # what the mail client shows
    assert name not in html  # never as markup
    assert "script" not in read_html(html).tags


def test_agency_wording_with_ampersands_and_quotes_reads_exactly_in_plain_text(agency, smtp):
    notice = 'Victims\' rights: ask for the "case status" & a copy after 30 days.'
    AgencyLanguage.objects.filter(agency=agency, language="en").update(statutory_notice=notice)
    agency.name = "Town & Country Police Department"
    agency.save()
    take_in(agency, record("en", phone=""))
    run_until_quiet()

    plain, html = parts(received_email(smtp))
    assert notice in plain
    assert "Town & Country Police Department" in plain
    assert "&amp;" not in plain and "&quot;" not in plain and "&#x27;" not in plain
    assert notice in shown_text(html)
    assert "Town & Country Police Department" in shown_text(html)


def test_every_link_in_every_message_stays_on_the_agencys_site(agency, smtp):
    agency.sms_segment_cap = 1  # the compact text, with its link
    agency.save()
    take_in(agency, record("en"), record("es", phone="520-555-0177", email="maria@example.com"))
    run_until_quiet()

    urls = []
    for received in smtp.received:
        plain, html = parts(received.message)
        page = read_html(html)
        assert page.urls, "the email links to the details page"
        urls += page.urls
        urls += re.findall(r"https?://[^\s\"'<>]+", plain + html)
    for note in Notification.objects.filter(channel="sms"):
        found = re.findall(r"https?://\S+", delivered_text(note))
        assert found, "the compact text links to the details page"
        urls += found
    assert urls
    for url in urls:
        # The details page, or the email's one-pixel image that records an open.
        assert url.startswith((BASE_URL + "/d/", BASE_URL + "/o/")), url


# Texts.


def test_english_default_text_is_plain_gsm7_with_its_segments_counted(agency):
    take_in(agency, make_record(reported_at=REPORTED_AT))
    note = Notification.objects.get()
    cost = sms.cost(note.body)
    assert sms.is_gsm7(note.body)
    assert note.encoding == cost.encoding == "GSM-7"
    assert note.segments == cost.segments <= agency.sms_segment_cap
    assert note.html == "" and note.subject == ""
    assert "<" not in note.body and "&" not in note.body


def test_segments_and_encoding_recorded_match_the_body(agency):
    take_in(
        agency,
        record("en"),
        record("es", phone="520-555-0177"),
        make_record(officer={"name": "Zoë Nguyễn", "badge": "12"}),
    )
    notes = Notification.objects.filter(channel="sms")
    assert notes.count() == 3
    for note in notes:
        cost = sms.cost(note.body)
        assert (note.segments, note.encoding) == (cost.segments, cost.encoding)
        assert note.segments <= agency.sms_segment_cap


def test_a_name_that_needs_ucs2_is_sent_exactly_as_written(agency):
    template = MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel="sms", language="en"
    )
    template.text = "Hi {{ recipient_name }}. " + template.text
    template.full_clean()
    template.save()
    take_in(agency, make_record(victim={"first_name": "Zoë"}, officer={"name": "Nguyễn Thị"}))
    run_until_quiet()

    note = Notification.objects.get()
    body = delivered_text(note)
    assert body.startswith("Hi Zoë. Testville Police:")
    assert "Officer: Nguyễn Thị" in body
    assert "?" not in body  # nothing was replaced by a question mark
    assert note.encoding == "UCS-2" and note.segments == sms.cost(body).segments


def test_smart_punctuation_from_agency_edits_does_not_force_ucs2(agency):
    typeset = "Someone took property that wasn\u2019t theirs \u2014 a \u201ctheft\u201d."
    OffenseText.objects.filter(offense__agency=agency, offense__code="23F", language="en").update(
        explanation_short=typeset
    )
    template = MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel="sms", language="en"
    )
    template.text = template.text.replace(
        "Reply STOP", "Questions?\u00a0Call\u2009us\u2026 Reply STOP"
    )
    template.full_clean()
    template.save()
    take_in(agency, make_record())

    note = Notification.objects.get()
    assert 'Someone took property that wasn\'t theirs - a "theft".' in note.body
    assert "Questions? Call us... Reply STOP" in note.body
    assert note.encoding == "GSM-7" and sms.is_gsm7(note.body)
    assert note.segments == sms.cost(note.body).segments


# Past the segment cap: the compact form with a link.


def _details_link(body: str) -> str:
    [url] = re.findall(r"https?://\S+", body)
    return url


LONG_SHORT_FORMS = {  # long, within the fields' 160 and 200 characters
    "en": (
        "Someone took something from inside a parked vehicle, such as a bag, a phone, tools or "
        "papers, without the owner's permission, locked or not.",
        "A detective reviews every report that has leads such as video, fingerprints or a "
        "serial number; you will be called if more information is needed from you.",
    ),
    "es": (
        "Alguien sacó algo del interior de un vehículo estacionado, como una bolsa, un teléfono, "
        "herramientas o papeles, sin permiso del dueño.",
        "Un detective revisa cada reporte con pistas como video, huellas o un número de serie; "
        "le llamaremos si necesitamos más información de usted.",
    ),
}


@pytest.mark.parametrize(
    ("language", "cap"),
    [("en", 3), ("es", 6)],  # Spanish needs UCS-2 (ó, í), 67 characters a segment
)
def test_text_past_the_segment_cap_is_compact_with_every_fact_and_a_details_link(
    agency, language, cap
):
    agency.sms_segment_cap = cap
    agency.save()
    explanation, steps = LONG_SHORT_FORMS[language]
    OffenseText.objects.filter(
        offense__agency=agency, offense__code="23F", language=language
    ).update(explanation_short=explanation, next_steps_short=steps)
    take_in(agency, make_record(reported_at=REPORTED_AT, victim={"language": language}))

    note = Notification.objects.get()
    w = words(language)
    cost = sms.cost(note.body)
    assert (note.segments, note.encoding) == (cost.segments, cost.encoding)
    assert note.segments <= cap
    url = _details_link(note.body)
    assert url.startswith(f"{BASE_URL}/d/")
    for fact in [note.report.report_number, "23F", w["title"], "Dana Whitfield", WHEN[language]]:
        assert fact in note.body, fact
    assert "(520) 555-0101" in note.body and "(520) 555-0150" in note.body
    # The short forms are cut (the longer first, only as much as needed) at a word and
    # marked, never dropped.
    assert explanation[:30] in note.body and steps[:30] in note.body
    assert (explanation not in note.body or steps not in note.body) and "..." in note.body


def test_default_text_over_a_cap_of_two_still_tells_all_8_facts_with_a_link(agency):
    agency.sms_segment_cap = 2
    agency.save()
    take_in(agency, make_record(reported_at=REPORTED_AT))
    note = Notification.objects.get()
    w = words("en")
    for fact in [*expected_facts(note, "en", short=True)[:5], "(520) 555-0101", "(520) 555-0150"]:
        assert fact in note.body, fact
    assert w["explanation_short"][:30] in note.body and w["next_steps_short"][:30] in note.body
    assert _details_link(note.body).startswith(f"{BASE_URL}/d/")
    assert note.encoding == "GSM-7" and note.segments == sms.cost(note.body).segments


@pytest.mark.parametrize(
    "explanation",
    [
        "x" * 90,  # no space to cut at
        "Call the section at once if you find it or a receipt for it e.g. a bill.",
        "Alguien tomó una propiedad que no era suya y la vendió en otro lugar a",
    ],
    ids=["one-long-word", "word-boundary-at-the-limit", "one-letter-last-word"],
)
def test_shortening_to_fit_the_cap_always_finishes(agency, explanation):
    """A cap that cannot be reached must not keep intake shortening forever."""
    agency.sms_segment_cap = 1
    agency.save()
    OffenseText.objects.filter(offense__agency=agency, offense__code="23F").update(
        explanation_short=explanation
    )
    take_in(agency, make_record(reported_at=REPORTED_AT))
    note = Notification.objects.get()
    assert explanation[:20] in note.body
    assert _details_link(note.body).startswith(f"{BASE_URL}/d/")
    assert note.segments == sms.cost(note.body).segments


# Who is written to, and when the facts change.


def test_parent_of_a_minor_victim_gets_the_guardian_wording(agency, smtp):
    child = {
        "party_id": "1",
        "role": "victim",
        "first_name": "Leo",
        "last_name": "Ruiz",
        "date_of_birth": "2014-03-02",
    }
    parent = {
        "party_id": "2",
        "role": "guardian",
        "first_name": "Marta",
        "last_name": "Ruiz",
        "phone": "520-555-0160",
        "email": "marta@example.com",
        "relationships": [{"party_id": "1", "code": "CH"}],
    }
    take_in(agency, make_record(reported_at=REPORTED_AT, parties=[child, parent]))
    run_until_quiet()

    notes = Notification.objects.select_related("party")
    assert {n.party.party_id for n in notes} == {"2"}  # the child is never written to
    text = notes.get(channel="sms")
    assert f"police report {text.report.report_number}, which involves your child." in text.body
    plain, html = parts(received_email(smtp, "marta@example.com"))
    assert "Dear Marta," in plain
    assert "You are listed as the parent or guardian on police report" in plain
    assert "You are listed as the parent or guardian" in shown_text(html)
    for fact in expected_facts(text, "en", short=False):
        assert fact in plain, fact


def test_facts_changed_after_sending_are_sent_again_as_an_update(agency, smtp):
    first = record("en")
    take_in(agency, first)
    run_until_quiet()
    take_in(agency, {**first, "offenses": ["220"]})  # reclassified: burglary, not 23F
    run_until_quiet()

    updates = Notification.objects.filter(is_update=True)
    assert {n.channel for n in updates} == {"sms", "email"}
    text = updates.get(channel="sms")
    assert text.body.startswith("Testville Police: UPDATED information on police report")
    assert "Crime: 220 Burglary" in text.body
    email = updates.get(channel="email")
    assert email.subject.startswith("Updated: Your police report")
    assert "Some details of police report" in email.body and "220 - Burglary" in email.body
    originals = Notification.objects.filter(is_update=False)
    assert {n.status for n in originals} <= {Status.SENT, Status.DELIVERED}
    # (A folded Subject header reads back with a leading space; see the report.)
    assert str(smtp.received[1].message["Subject"]).strip().startswith("Updated: ")


def test_facts_changed_before_sending_replace_the_message_without_update_wording(agency):
    first = make_record(reported_at=REPORTED_AT)
    take_in(agency, first)
    take_in(agency, {**first, "offenses": ["220"]})
    old = Notification.objects.get(status=Status.CANCELLED)
    new = Notification.objects.get(status=Status.PENDING)
    assert old.status_reason_codes == ["superseded"]
    assert not new.is_update and "This is about police report" in new.body
    assert "220 Burglary" in new.body
