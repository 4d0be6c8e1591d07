"""The template editor: a live preview rendered the way real messages are, with segments and
encoding; errors shown instead of a crash; saving makes a new version that later messages use."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.models import Agency
from victim_notify.messages.models import MessageTemplate, Notification, TemplateRevision

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]

FACTS = (
    "{{ agency_short_name }}: report {{ report_number }}, {{ offense_code }} {{ offense_title }}, "
    "Officer {{ officer_name }}, {{ reported_at }}. {{ explanation_short }} "
    "Next: {{ next_steps_short }} Substation {{ substation_phone }}, "
    "{{ section_name }} {{ section_phone }}."
)


# Factories local to these tests.


def template_of(agency: Agency, channel: str = "sms", kind: str = "report_filed") -> Any:
    return MessageTemplate.objects.get(agency=agency, kind=kind, channel=channel, language="en")


def sms_form(template: MessageTemplate, **changes: str) -> dict[str, Any]:
    data = {
        "text": template.text,
        "compact_text": template.compact_text,
        "base_version": template.version,
    }
    return data | changes


def preview(client: Client, template: MessageTemplate, **changes: str) -> str:
    response = client.post(
        reverse("staff:config-template-preview", kwargs={"template_id": template.pk}),
        sms_form(template, **changes),
    )
    assert response.status_code == 200
    return response.content.decode()


def shown(body: str, css_class: str) -> str:
    found = re.search(rf'class="{css_class}">([^<]*)<', body)
    assert found, css_class
    return found.group(1)


def bubble(body: str) -> str:
    found = re.search(r'<div class="bubble">(.*?)</div>', body, re.S)
    assert found
    return html.unescape(found.group(1))


# Pages.


def test_template_list_and_editor_render_for_a_supervisor(
    signed_in: SignIn, agency: Agency
) -> None:
    client = signed_in(Role.SUPERVISOR)
    listing = client.get(reverse("staff:config-templates"))
    assert listing.status_code == 200
    for template in MessageTemplate.objects.filter(agency=agency):
        url = reverse("staff:config-template", kwargs={"template_id": template.pk})
        assert url in listing.content.decode()
        page = client.get(url)
        assert page.status_code == 200, template
        body = page.content.decode()
        assert 'hx-post="' + url + '/preview"' in body
        assert "preview-error" not in body, template


def test_editor_shows_the_saved_text_as_the_phone_shows_it(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency)
    url = reverse("staff:config-template", kwargs={"template_id": template.pk})
    body = signed_in(Role.SUPERVISOR).get(url).content.decode()
    text = bubble(body)
    assert text.startswith("Testville Police: This is about police report 26-004217.")
    assert "Officer: Dana Whitfield #4471" in text
    # The first offense code whose victims are written to (09A Murder is excluded), and the
    # first live division.
    assert "Crime: 13B Simple Assault" in text
    assert "Westside Substation: (520) 555-0101" in text


# The preview.


def test_preview_follows_the_draft(signed_in: SignIn, agency: Agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    template = template_of(agency)
    first = preview(client, template, text=FACTS + " Call us.")
    second = preview(client, template, text=FACTS + " Call us any time, day or night.")
    assert bubble(first).endswith("Call us.")
    assert bubble(second).endswith("Call us any time, day or night.")
    assert int(shown(second, "sms-characters")) - int(shown(first, "sms-characters")) == 23
    assert template_of(agency).version == template.version  # a preview saves nothing


def test_preview_shows_segments_and_encoding(signed_in: SignIn, agency: Agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    template = template_of(agency)
    accented = preview(client, template, text=FACTS + " Café é.")
    assert shown(accented, "sms-encoding") == "GSM-7"  # é is in the GSM-7 alphabet
    emoji = preview(client, template, text=FACTS + " Café 🚓")
    assert shown(emoji, "sms-encoding") == "UCS-2"
    assert int(shown(emoji, "sms-segments")) > int(shown(accented, "sms-segments"))


def test_preview_warns_when_the_text_passes_the_segment_cap(
    signed_in: SignIn, agency: Agency
) -> None:
    Agency.objects.filter(pk=agency.pk).update(sms_segment_cap=1)
    client = signed_in(Role.SUPERVISOR)
    template = template_of(agency)
    without_compact = preview(client, template, compact_text="")
    assert "Over the cap" in without_compact
    with_compact = preview(client, template)
    assert "Compact form sent" in with_compact
    assert "Shorten the compact text" in with_compact  # 1 segment is too few even for it
    assert "Details: https://notify.testville.example/d/" in bubble(with_compact)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (FACTS + " {{ report.number", "Line 1: unexpected end of template"),
        (FACTS + " {{ victim_ssn }}", "unknown placeholder {{ victim_ssn }}"),
        (FACTS + " {{ ''.__class__ }}", "unsafe"),
    ],
)
def test_preview_shows_template_errors_instead_of_failing(
    signed_in: SignIn, agency: Agency, text: str, error: str
) -> None:
    body = preview(signed_in(Role.SUPERVISOR), template_of(agency), text=text)
    assert "Saving is refused until these are fixed" in body
    assert error in html.unescape(body)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (FACTS + " {{ self }}", "unknown placeholder {{ self }}"),
        (FACTS + " {{ report.agency.__class__.objects.all() }}", "unknown placeholder"),
        (FACTS + " {{ cycler.__init__.__globals__ }}", "unknown placeholder {{ cycler }}"),
        (FACTS + " {% for x in range(10**9) %}{% endfor %}", "unknown placeholder {{ range }}"),
        (FACTS + " {{ 'a' * 10**9 }}", "operator is not available"),
        (FACTS + " {{ report_number.ljust(10000000000) }}", "calling functions or methods"),
        (FACTS + " {% set x = report_number %}{% set x = x ~ x %}", "{% set %} cannot be used"),
        (
            FACTS + " {% for a in report_number %}{% for b in report_number %}{% endfor %}"
            "{% endfor %}",
            "loops ({% for %}) cannot be used",
        ),
        (
            FACTS
            + " {{ officer_name|replace('', '"
            + "x" * 120
            + "')|replace('', '1234567890') }}",
            "replace made a text longer",
        ),
    ],
)
def test_template_injection_is_explained_in_preview_and_refused_on_save(
    signed_in: SignIn, agency: Agency, text: str, error: str
) -> None:
    client = signed_in(Role.SUPERVISOR)
    template = template_of(agency)
    body = preview(client, template, text=text)
    assert "Saving is refused until these are fixed" in body
    assert error in html.unescape(body)
    response = client.post(
        reverse("staff:config-template", kwargs={"template_id": template.pk}),
        sms_form(template, text=text),
    )
    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    assert template_of(agency).version == template.version


def test_email_preview_shows_subject_sandboxed_html_and_plain_text(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency, "email")
    marked = template.html + "<p>Marked <b>paragraph</b> & more</p>"
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-template-preview", kwargs={"template_id": template.pk}),
        {"subject": template.subject, "text": template.text, "html": marked},
    )
    body = response.content.decode()
    assert "Your police report 26-004217 with the Testville Police Department" in body
    frame = re.search(r'<iframe[^>]*\bsandbox\b[^>]*srcdoc="([^"]*)"', body)
    assert frame, body
    assert "<p>Marked <b>paragraph</b> & more</p>" in html.unescape(frame.group(1))
    assert "<b>paragraph" not in frame.group(1)  # escaped inside the attribute
    assert "<script" not in body.split("<iframe", 1)[1]
    plain = re.search(r'<pre class="email-text">(.*?)</pre>', body, re.S)
    assert plain and "26-004217" in plain.group(1)


def test_answer_template_preview_uses_the_sample_report(signed_in: SignIn, agency: Agency) -> None:
    template = template_of(agency, "sms", kind="help")
    body = preview(signed_in(Role.SUPERVISOR), template)
    assert "report 26-004217" in bubble(body)


# Saving.


def test_saving_makes_a_new_version_that_later_messages_use(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency)
    old_version = template.version
    take_in(agency, make_record())
    earlier = Notification.objects.get(channel="sms")
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-template", kwargs={"template_id": template.pk}),
        sms_form(template, text=FACTS + " Reply STOP to opt out. New wording."),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == old_version + 1
    assert TemplateRevision.objects.filter(template=template, version=template.version).exists()
    [event] = AuditEvent.objects.filter(action="config.template_changed")
    assert event.detail == {
        "fields": ["text", "version"],
        "values": {"version": {"old": old_version, "new": old_version + 1}},
    }

    take_in(agency, make_record())
    later = Notification.objects.filter(channel="sms").exclude(pk=earlier.pk).get()
    assert later.template.version == template.version
    assert later.body.endswith("New wording.")
    earlier.refresh_from_db()
    assert earlier.template.version == old_version  # already queued: keeps its version


def test_an_earlier_version_is_loaded_into_the_editor_and_saved_again_as_a_new_one(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency)
    first_version, first_text = template.version, template.text
    client = signed_in(Role.SUPERVISOR)
    url = reverse("staff:config-template", kwargs={"template_id": template.pk})
    client.post(url, sms_form(template, text=FACTS + " Reply STOP to opt out. Second."))
    template.refresh_from_db()

    page = client.get(url).content.decode()
    assert f'href="?from_version={first_version}"' in page
    assert f'href="?from_version={template.version}"' not in page  # the one in use

    page = client.get(url, {"from_version": first_version}).content.decode()
    assert f"Version {first_version} is in the editor" in page
    assert html.escape(first_text) in page  # in the text box and the preview
    assert "Second." not in bubble(page)
    template.refresh_from_db()
    assert template.text.endswith("Second.")  # loading saves nothing

    answer = client.post(url, sms_form(template, text=first_text))
    assert answer.status_code == 302
    template.refresh_from_db()
    assert (template.version, template.text) == (first_version + 2, first_text)
    assert AuditEvent.objects.filter(action="config.template_changed").count() == 2
    assert client.get(url, {"from_version": 99}).status_code == 404
    assert client.get(url, {"from_version": "²"}).status_code == 200  # not a number: ignored


def test_saving_a_template_that_fails_to_render_is_refused(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency)
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-template", kwargs={"template_id": template.pk}),
        sms_form(template, text=FACTS + " {{ report.number"),
    )
    body = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert 'class="field__error"' in body and "unexpected end of template" in body
    assert template_of(agency).version == template.version
    assert not AuditEvent.objects.filter(action="config.template_changed").exists()


def test_saving_over_someone_elses_newer_version_is_refused(
    signed_in: SignIn, agency: Agency
) -> None:
    template = template_of(agency)
    stale = sms_form(template, text=FACTS + " Mine.")
    template.text = FACTS + " Theirs."
    template.save()
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-template", kwargs={"template_id": template.pk}), stale
    )
    assert "Someone saved this template since you opened it" in html.unescape(
        response.content.decode()
    )
    assert template_of(agency).text.endswith("Theirs.")


# Who may.


def test_another_agencys_template_is_not_found(
    signed_in: SignIn, agency: Agency, other_agency: Agency
) -> None:
    theirs = template_of(other_agency)
    client = signed_in(Role.SUPERVISOR)
    edit = reverse("staff:config-template", kwargs={"template_id": theirs.pk})
    assert client.get(edit).status_code == 404
    assert client.post(edit, sms_form(theirs, text=FACTS)).status_code == 404
    assert client.post(edit + "/preview", sms_form(theirs)).status_code == 404
    assert template_of(other_agency).version == theirs.version


def test_an_advocate_is_refused_the_template_editor(signed_in: SignIn, agency: Agency) -> None:
    client = signed_in(Role.ADVOCATE)
    template = template_of(agency)
    edit = reverse("staff:config-template", kwargs={"template_id": template.pk})
    assert client.get(reverse("staff:config-templates")).status_code == 403
    assert client.get(edit).status_code == 403
    assert client.post(edit + "/preview", sms_form(template)).status_code == 403
    assert client.post(edit, sms_form(template, text=FACTS)).status_code == 403
    assert template_of(agency).version == template.version
