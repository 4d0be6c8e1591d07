"""Agency-editable templates: checked when saved, versioned, pinned on the messages rendered
with them, and rendered in a sandbox with nothing but plain strings in reach."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from jinja2.exceptions import SecurityError, TemplateSyntaxError

from tests.agency_data import agency_data
from tests.conftest import make_record, verified_login
from victim_notify.agencies.setup import load_agency
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import render, sender
from victim_notify.messages.defaults import default_parts
from victim_notify.messages.models import MessageTemplate, Notification, Status, TemplateRevision
from victim_notify.messages.templating import (
    HTML_ENV,
    PLACEHOLDERS,
    TEXT_ENV,
    compile_html,
    compile_text,
)
from victim_notify.providers.models import DevOutboxMessage

pytestmark = pytest.mark.django_db


# Factories local to these tests.


def template_of(agency, channel: str = "sms", language: str = "en") -> MessageTemplate:  # type: ignore[no-untyped-def]
    return MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel=channel, language=language
    )


def edited(agency, channel: str = "sms", language: str = "en", **parts: str) -> MessageTemplate:  # type: ignore[no-untyped-def]
    template = template_of(agency, channel, language)
    for name, value in parts.items():
        setattr(template, name, value)
    return template


def errors_of(template: MessageTemplate) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        template.full_clean()
    return caught.value.message_dict


def without(source: str, *names: str) -> str:
    for name in names:
        source = re.sub(r"\{\{\s*" + name + r"\s*\}\}", "", source)
    return source


def take_in(agency, *records: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    summary = ingest(
        agency, [IncomingRecord.from_object(i, r) for i, r in enumerate(records)], source="api"
    )
    assert not [r for r in summary.results if r.outcome == "quarantined"], summary.as_dict()


def run_until_quiet() -> None:
    while sender.send_due("w1"):
        pass


SAMPLE = {name: f"sample {name}" for name in PLACEHOLDERS} | {
    "is_guardian": False,
    "is_update": False,
}


# What the shipped templates are.


@pytest.mark.parametrize("channel", ["sms", "email"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_agency_starts_with_valid_default_templates(agency, channel, language):
    template = template_of(agency, channel, language)
    assert template.version == 1
    template.full_clean()
    for part, source in default_parts("report_filed", channel, language).items():
        assert getattr(template, part) == source


# Checked when saved.


@pytest.mark.parametrize(
    ("channel", "part"),
    [
        ("sms", "text"),
        ("sms", "compact_text"),
        ("email", "subject"),
        ("email", "text"),
        ("email", "html"),
    ],
)
def test_unknown_placeholder_is_refused_by_name(agency, channel, part):
    template = template_of(agency, channel)
    template = edited(agency, channel, **{part: getattr(template, part) + " {{ victim_ssn }}"})
    errors = errors_of(template)
    assert list(errors) == [part]
    assert errors[part] == ["unknown placeholder {{ victim_ssn }}"]


EIGHT_FACTS = [
    (("report_number",), "report number"),
    (("offense_code",), "crime code"),
    (("officer_name",), "reporting officer"),
    (("reported_at",), "report date and time"),
    (("explanation", "explanation_short"), "what the crime code means"),
    (("next_steps", "next_steps_short"), "what happens next"),
    (("substation_phone",), "substation phone"),
    (("section_phone",), "investigative section phone"),
]


@pytest.mark.parametrize(("names", "label"), EIGHT_FACTS, ids=[label for _, label in EIGHT_FACTS])
@pytest.mark.parametrize(
    ("channel", "part"),
    [("sms", "text"), ("sms", "compact_text"), ("email", "text"), ("email", "html")],
)
def test_template_without_one_of_the_8_facts_is_refused(agency, channel, part, names, label):
    template = template_of(agency, channel)
    source = without(getattr(template, part), *names)
    template = edited(agency, channel, **{part: source})
    errors = errors_of(template)
    assert part in errors
    assert any(label in message and message.startswith("must include") for message in errors[part])


def test_compact_text_without_the_details_link_is_refused(agency):
    template = template_of(agency, "sms")
    template.compact_text = without(template.compact_text, "details_url")
    assert errors_of(template) == {"compact_text": ["must include {{ details_url }}"]}


def test_sms_without_a_compact_form_is_allowed(agency):
    template = edited(agency, "sms", compact_text="")
    template.full_clean()


def test_email_subject_without_the_report_number_is_refused(agency):
    template = edited(agency, "email", subject="A message from the {{ agency_name }}")
    assert errors_of(template) == {"subject": ["must include {{ report_number }}"]}


@pytest.mark.parametrize(
    ("part", "source", "line"),
    [
        ("text", "Hello\n{{ report_number }\n", 2),
        ("text", "Hello\n\n{% if is_update %}Updated", 3),
        ("compact_text", "{{ details_url }}\n{{ report_number | no_such_filter }}", 2),
    ],
)
def test_syntax_error_is_reported_with_its_line(agency, part, source, line):
    errors = errors_of(edited(agency, "sms", **{part: source}))
    assert errors[part][0].startswith(f"line {line}: ")


def test_html_syntax_error_is_reported_with_its_line(agency):
    html = template_of(agency, "email").html + "\n<p>{% for %}</p>"
    errors = errors_of(edited(agency, "email", html=html))
    assert errors["html"][0].startswith(f"line {html.count(chr(10)) + 1}: ")


def test_admin_refuses_an_invalid_template_and_keeps_the_old_one(agency):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = verified_login(Client(), admin)
    template = template_of(agency, "sms")
    meta = MessageTemplate._meta
    url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[template.pk])
    form = {
        "agency": agency.pk,
        "kind": template.kind,
        "channel": template.channel,
        "language": template.language,
        "subject": template.subject,
        "text": template.text + " Call {{ victim_phone }}",
        "compact_text": template.compact_text,
        "html": template.html,
    }
    response = client.post(url, form)
    assert response.status_code == 200
    assert "unknown placeholder {{ victim_phone }}" in response.content.decode()
    template.refresh_from_db()
    assert template.version == 1 and "victim_phone" not in template.text

    form["text"] = template.text.replace("Reply STOP", "Text STOP")
    assert client.post(url, form).status_code == 302
    template.refresh_from_db()
    assert template.version == 2 and "Text STOP" in template.text


# Versions.


def test_saving_changed_wording_makes_a_new_version_with_a_revision(agency):
    template = template_of(agency, "email")
    first_text = template.text
    template.save()  # nothing changed
    assert template.version == 1 and template.revisions.count() == 1

    template.text = first_text.replace("Thank you for reporting", "Thanks for reporting")
    template.full_clean()
    template.save()
    template.refresh_from_db()
    assert template.version == 2
    revisions = {r.version: r for r in template.revisions.all()}
    assert set(revisions) == {1, 2}
    assert revisions[1].text == first_text
    assert revisions[2].text == template.text
    assert template.current_revision() == revisions[2]


def test_queued_message_keeps_the_wording_it_was_rendered_with(agency):
    take_in(agency, make_record())
    queued = Notification.objects.get()
    frozen = queued.body
    assert queued.status == Status.PENDING and queued.template.version == 1

    template = template_of(agency, "sms")
    template.text = template.text.replace("Reply STOP to opt out.", "New wording. Reply STOP.")
    template.full_clean()
    template.save()

    take_in(agency, make_record(victim={"phone": "520-555-0177"}))
    run_until_quiet()
    queued.refresh_from_db()
    assert queued.template.version == 1 and queued.body == frozen
    assert "New wording" not in queued.body
    assert DevOutboxMessage.objects.get(notification_id=queued.pk).body == frozen
    later = Notification.objects.exclude(pk=queued.pk).get()
    assert later.template.version == 2 and "New wording. Reply STOP." in later.body
    assert TemplateRevision.objects.get(pk=queued.template_id).text != template.text


def test_one_agencys_edit_does_not_touch_another_agencys_messages(agency):
    data = agency_data(slug="otherville", name="Otherville Police Department")
    data["agency"]["short_name"] = "Otherville Police"
    other = load_agency(data)
    template = template_of(agency, "sms")
    template.text = "Testville only. " + template.text
    template.full_clean()
    template.save()

    take_in(other, make_record())
    note = Notification.objects.get(agency=other)
    assert note.body.startswith("Otherville Police: This is about police report")
    assert template_of(other, "sms").version == 1


# The sandbox.


@pytest.mark.parametrize(
    "source",
    [
        "{{ settings.SECRET_KEY }}",
        "{{ config }}",
        "{{ request.user }}",
        "{{ agency.api_tokens }}",
        "{% for x in range(10**9) %}{% endfor %}",
        "{{ lipsum(1000) }}",
        "{{ dict(a=1) }}",
        "{{ cycler('a') }}",
        "{{ namespace() }}",
        "{{ joiner() }}",
    ],
)
def test_names_beyond_the_placeholders_are_refused_when_saved(agency, source):
    template = template_of(agency, "sms")
    template = edited(agency, "sms", text=template.text + source)
    [message] = errors_of(template)["text"]
    assert message.startswith("unknown placeholder {{ ")


@pytest.mark.parametrize(
    "source",
    [
        "{{ report_number.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ report_number['__class__'] }}",
        "{% if is_update %}{{ officer_name.__class__.__base__.__subclasses__() }}{% endif %}",
        # Refused where it is written, not only in the branch the sample render takes.
        "{% if is_update and not is_update %}{{ officer_name.__init__.__globals__ }}{% endif %}",
    ],
)
def test_attribute_tricks_are_refused_when_saved(agency, source):
    template = template_of(agency, "sms")
    lines = template.text.count("\n") + 1
    template = edited(agency, "sms", text=template.text + "\n" + source)
    [message] = errors_of(template)["text"]
    assert message.startswith(f"line {lines + 1}: access to attribute ")
    assert "is unsafe" in message


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("{{ report_number|attr('__class__') }}", "No filter named 'attr'"),
        ("{{ report_number|center(1000000000) }}", "No filter named 'center'"),
        ("{{ report_number * 100000000 }}", "the * operator is not available"),
        ("{{ 9 ** 9 ** 9 }}", "the ** operator is not available"),
        ("{{ 'a' * 1000000000 }}", "the * operator is not available"),
        ("{{ report_number.ljust(1000000000) }}", "calling functions or methods cannot be used"),
        ("{{ '{0:>999999999}'.format(report_number) }}", "calling functions or methods"),
        ("{{ '{0.__class__.__init__.__globals__}'.format(report_number) }}", "calling functions"),
        (
            "{% for a in report_number %}{% for b in report_number %}x{% endfor %}{% endfor %}",
            "loops",
        ),
        ("{% set x = report_number %}{% set x = x ~ x %}{{ x }}", "{% set %} cannot be used"),
        ("{% macro f() %}{{ f() }}{{ f() }}{% endmacro %}{{ f() }}", "macros cannot be used"),
        ("{% include 'other' %}", "{% include %} cannot be used"),
        ("{% import 'other' as o %}", "{% import %} cannot be used"),
        ("{% filter upper %}{{ report_number }}{% endfilter %}", "{% filter %} blocks"),
        (
            "{{ report_number" + "|replace('', 'xxxxxxxxxx')" * 9 + " }}",
            "replace made a text longer than 10000 characters",
        ),
    ],
)
def test_filters_and_arithmetic_that_could_stop_the_worker_are_refused(agency, source, why):
    template = template_of(agency, "sms")
    lines = template.text.count("\n") + 1
    template = edited(agency, "sms", text=template.text + "\n" + source)
    [message] = errors_of(template)["text"]
    assert message.startswith(f"line {lines + 1}: ")
    assert why in message


@pytest.mark.parametrize("env", [TEXT_ENV, HTML_ENV], ids=["text", "html"])
@pytest.mark.parametrize(
    "source",
    [
        "{{ report_number.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ recipient_name.__init__.__globals__ }}",
    ],
)
def test_sandbox_refuses_attribute_tricks_at_render(env, source):
    """The second wall: what the check at parse time would let through, the sandbox refuses."""
    with pytest.raises(SecurityError):
        env.from_string(source).render(SAMPLE)


@pytest.mark.parametrize("compile_", [compile_text, compile_html], ids=["text", "html"])
@pytest.mark.parametrize(
    "source",
    [
        "{{ report_number.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% for x in report_number %}{{ x }}{% endfor %}",
        "{{ report_number.zfill(1000000000) }}",
    ],
)
def test_a_stored_template_with_a_refused_construct_never_renders(compile_, source):
    """Even a template saved before a construct was refused (or written to the database some
    other way) cannot run it when a message is rendered."""
    with pytest.raises(TemplateSyntaxError):
        compile_(source).render(SAMPLE)


@pytest.mark.parametrize(
    "source",
    [
        "{{ self }}",
        "{{ self._TemplateReference__context }}",
        "{{ report.agency.__class__.objects.all() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ settings }}",
        "{{ os }}",
        "{{ agency }}",
        "{{ loop }}",
        "{{ range(10) }}",
    ],
)
def test_names_for_objects_or_the_template_itself_are_unknown_placeholders(agency, source):
    template = edited(agency, "sms", text=template_of(agency, "sms").text + source)
    [message] = errors_of(template)["text"]
    assert message.startswith("unknown placeholder {{ ")


def test_what_a_template_can_print_names_no_secret_and_no_other_agency(agency, settings):
    """Everything the allowed syntax can reach, printed: only this message's own values."""
    from tests.agency_data import agency_data as data_for

    load_agency(data_for(slug="otherville", name="Otherville Police Department"))
    source = template_of(agency, "sms").text + (
        " {{ report_number|e }} {{ report_number[0] }} {{ report_number.upper }}"
        " {{ report_number is string }} {{ report_number|length }}"
    )
    template = edited(agency, "sms", text=source)
    template.full_clean()
    template.save()
    take_in(agency, make_record())
    body = Notification.objects.get().body
    assert settings.SECRET_KEY not in body and "Otherville" not in body
    assert "<built-in method upper" in body  # a method can be named, never called


def test_what_templates_see_is_only_plain_strings_and_flags(agency, monkeypatch):
    seen: list[dict[str, object]] = []

    def spying(compile_):  # type: ignore[no-untyped-def]
        def compile_and_spy(source: str):  # type: ignore[no-untyped-def]
            template = compile_(source)

            class Spy:
                def render(self, context: dict[str, object]) -> str:
                    seen.append(dict(context))
                    return template.render(context)

            return Spy()

        return compile_and_spy

    monkeypatch.setattr(render, "compile_text", spying(render.compile_text))
    monkeypatch.setattr(render, "compile_html", spying(render.compile_html))
    take_in(agency, make_record(victim={"email": "ana@example.com", "language": "es"}))

    assert Notification.objects.count() == 2
    assert len(seen) >= 4  # text, subject, plain text and HTML
    for context in seen:
        assert set(context) <= set(PLACEHOLDERS)
        for name, value in context.items():
            expected = bool if name in {"is_guardian", "is_update"} else str
            assert type(value) is expected, name
