"""The configuration pages: agency settings, offense codes, divisions, sections and providers.
Every change is saved, audited by field name and seen by the cached configuration the workers
use; bad input is refused field by field and saves nothing; another agency's objects are 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from victim_notify.accounts.models import AuditEvent, Role
from victim_notify.agencies.config import cached_config
from victim_notify.agencies.models import Agency, Division, InvestigativeSection, OffenseCode
from victim_notify.providers.health import choose
from victim_notify.providers.models import ProviderEvent, ProviderHealth, ProviderRoute

pytestmark = pytest.mark.django_db

SignIn = Callable[[str], Client]


# Factories local to these tests.


def agency_form(agency: Agency, **changes: Any) -> dict[str, Any]:
    """The agency settings form as the page fills it, with `changes` applied."""
    data: dict[str, Any] = {
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "post_approval_delay_minutes": agency.post_approval_delay_minutes,
        "max_message_age_hours": agency.max_message_age_hours,
        "sms_enabled": "on",
        "email_enabled": "on",
        "sms_segment_cap": agency.sms_segment_cap,
        "excluded_categories": list(agency.excluded_categories),
        "dv_relationship_codes": ", ".join(agency.dv_relationship_codes),
        "adult_age": agency.adult_age,
        "notify_reporting_parties": "on",
        "intake_quiet_day_hours": agency.intake_quiet_day_hours,
        "intake_quiet_night_hours": agency.intake_quiet_night_hours,
        "call_wait_minutes": ", ".join(f"{k}={v}" for k, v in agency.call_wait_minutes.items()),
        "call_natures_not_texted": ", ".join(agency.call_natures_not_texted),
        "still_open_days": agency.still_open_days,
        "deadline_warning_hours": agency.deadline_warning_hours,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def offense_form(offense: OffenseCode, **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": offense.title,
        "sensitive_category": offense.sensitive_category,
        "section": offense.section_id,
        "group": offense.group,
    }
    for text in offense.texts.all():
        for name in ("title", "explanation", "explanation_short", "next_steps", "next_steps_short"):
            data[f"text-{text.language}-{name}"] = getattr(text, name)
    data.update(changes)
    return data


def division_form(division: Division, **changes: str) -> dict[str, str]:
    data = {
        "name": division.name,
        "substation_name": division.substation_name,
        "substation_phone": division.substation_phone,
        "go_live_date": division.go_live_date.isoformat() if division.go_live_date else "",
    }
    return data | changes


def audits(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def field_error(response: Any, text: str) -> bool:
    body = response.content.decode()
    return response.status_code == 200 and 'class="field__error"' in body and text in body


# Pages.


def test_every_configuration_page_renders_for_a_supervisor(
    signed_in: SignIn, agency: Agency
) -> None:
    client = signed_in(Role.SUPERVISOR)
    offense = agency.offense_codes.get(code="23F")
    division = agency.divisions.get(code="W")
    section = agency.sections.get(code="PROP")
    urls = [
        reverse("staff:config"),
        reverse("staff:config-agency"),
        reverse("staff:config-case-updates"),
        reverse("staff:config-offenses"),
        reverse("staff:config-offense", kwargs={"offense_id": offense.pk}),
        reverse("staff:config-divisions"),
        reverse("staff:config-division", kwargs={"division_id": division.pk}),
        reverse("staff:config-sections"),
        reverse("staff:config-section", kwargs={"section_id": section.pk}),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content.decode().count("<h1") == 1, url


def test_index_summarises_codes_and_live_divisions(signed_in: SignIn, agency: Agency) -> None:
    body = signed_in(Role.SUPERVISOR).get(reverse("staff:config")).content.decode()
    assert ">6 <small>3 excluded" in body  # six codes, three in excluded categories
    assert ">1 <small>of 2" in body  # West is live, East goes live in 2099
    assert reverse("staff:providers") not in body  # providers are for administrators


def test_offense_list_filters_by_search_group_and_excluded_category(
    signed_in: SignIn, agency: Agency
) -> None:
    client = signed_in(Role.SUPERVISOR)
    url = reverse("staff:config-offenses")
    assert "Burglary" in client.get(url, {"q": "burg"}).content.decode()
    assert "Theft From" not in client.get(url, {"q": "burg"}).content.decode()
    excluded = client.get(url, {"category": "excluded"}).content.decode()
    assert "Rape" in excluded and "Murder" in excluded and "Burglary" not in excluded
    agency.offense_codes.filter(code="220").update(group="property")
    grouped = client.get(url, {"group": "property"}).content.decode()
    assert "Burglary" in grouped and "Rape" not in grouped


# Agency settings.


def test_agency_settings_change_is_saved_audited_and_seen_by_the_cached_config(
    signed_in: SignIn, agency: Agency
) -> None:
    assert cached_config(agency.pk).agency.sms_segment_cap == 6  # cached before the change
    client = signed_in(Role.SUPERVISOR)
    response = client.post(
        reverse("staff:config-agency"),
        agency_form(
            agency,
            quiet_hours_start="21:30",
            quiet_hours_end="07:45",
            sms_segment_cap="3",
            excluded_categories=["domestic_violence", "sexual_offense"],
            dv_relationship_codes="se bg",
        ),
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.quiet_hours_start == dt.time(21, 30)
    assert agency.dv_relationship_codes == ["SE", "BG"]
    config = cached_config(agency.pk)
    assert config.agency.sms_segment_cap == 3
    assert config.policy.excluded_categories == {"domestic_violence", "sexual_offense"}
    [event] = audits("config.agency_changed")
    assert set(event.detail["fields"]) == {
        "quiet_hours_start",
        "quiet_hours_end",
        "sms_segment_cap",
        "excluded_categories",
        "dv_relationship_codes",
    }
    assert event.detail["values"]["sms_segment_cap"] == {"old": 6, "new": 3}
    assert event.object_id == str(agency.pk)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"quiet_hours_start": "25:61", "quiet_hours_end": "08:00"}, "Enter a valid time"),
        ({"quiet_hours_start": "21:00"}, "Give both times"),
        ({"quiet_hours_start": "21:00", "quiet_hours_end": "21:00"}, "same as the start"),
        ({"dv_relationship_codes": "SE, BOYFRIEND"}, "BOYFRIEND"),
        ({"sms_segment_cap": "0"}, "greater than or equal to 1"),
        ({"call_wait_minutes": "3=thirty"}, "Write priority=minutes"),
    ],
)
def test_bad_agency_settings_show_a_field_error_and_save_nothing(
    signed_in: SignIn, agency: Agency, changes: dict[str, str], error: str
) -> None:
    client = signed_in(Role.SUPERVISOR)
    response = client.post(reverse("staff:config-agency"), agency_form(agency, **changes))
    assert field_error(response, error)
    fresh = Agency.objects.get(pk=agency.pk)
    assert fresh.quiet_hours_start is None and fresh.sms_segment_cap == 6
    assert fresh.dv_relationship_codes == agency.dv_relationship_codes
    assert not audits("config.agency_changed")


def test_caller_texts_are_turned_on_with_waits_by_priority_and_quiet_call_types(
    signed_in: SignIn, agency: Agency
) -> None:
    form = agency_form(
        agency,
        call_texts_enabled="on",
        call_wait_minutes="P2=15, 3=40",
        call_natures_not_texted="DV, Family fight,, DV",
        still_open_days="28",
    )
    client = signed_in(Role.SUPERVISOR)
    response = client.post(reverse("staff:config-agency"), form)
    assert response.status_code == 302
    fresh = Agency.objects.get(pk=agency.pk)
    assert fresh.call_texts_enabled
    assert fresh.call_wait_minutes == {"2": 15, "3": 40}
    assert fresh.call_natures_not_texted == ["DV", "Family fight"]
    assert fresh.still_open_days == 28
    page = client.get(reverse("staff:config-agency")).content.decode()
    assert 'value="2=15, 3=40"' in page


# Offense codes.


def test_offense_words_change_is_saved_audited_and_seen_by_the_cached_config(
    signed_in: SignIn, agency: Agency
) -> None:
    offense = agency.offense_codes.get(code="23F")
    cached_config(agency.pk)
    new_words = "Alguien se llevó algo de su vehículo."
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-offense", kwargs={"offense_id": offense.pk}),
        offense_form(offense, **{"text-es-explanation_short": new_words, "group": "property"}),
    )
    assert response.status_code == 302
    words = cached_config(agency.pk).offenses["23F"]
    assert words.words["es"].explanation_short == new_words
    assert words.group == "property"
    [event] = audits("config.offense_changed")
    assert event.detail["fields"] == ["group", "texts.es.explanation_short"]
    assert event.detail["values"] == {"group": {"old": "", "new": "property"}}
    assert new_words not in str(event.detail)


def test_explanation_short_over_160_characters_is_refused(
    signed_in: SignIn, agency: Agency
) -> None:
    offense = agency.offense_codes.get(code="23F")
    before = offense.texts.get(language="en").explanation_short
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-offense", kwargs={"offense_id": offense.pk}),
        offense_form(offense, **{"text-en-explanation_short": "x" * 161, "title": "Renamed"}),
    )
    assert field_error(response, "at most 160 characters")
    assert offense.texts.get(language="en").explanation_short == before
    assert OffenseCode.objects.get(pk=offense.pk).title == offense.title
    assert not audits("config.offense_changed")


def test_offense_page_shows_character_counts_and_only_the_agencys_sections(
    signed_in: SignIn, agency: Agency, other_agency: Agency
) -> None:
    offense = agency.offense_codes.get(code="23F")
    body = (
        signed_in(Role.SUPERVISOR)
        .get(reverse("staff:config-offense", kwargs={"offense_id": offense.pk}))
        .content.decode()
    )
    short = offense.texts.get(language="en").explanation_short
    assert f'data-limit="160">{len(short)}</span> of 160 characters' in body
    assert 'data-limit="200"' in body
    foreign = other_agency.sections.get(code="PROP")
    assert f'value="{foreign.pk}"' not in body


# Divisions and sections.


def test_division_phone_typed_locally_is_stored_in_e164_and_seen_by_the_cached_config(
    signed_in: SignIn, agency: Agency
) -> None:
    division = agency.divisions.get(code="E")
    cached_config(agency.pk)
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-division", kwargs={"division_id": division.pk}),
        division_form(division, substation_phone="(520) 555-0177", go_live_date="2026-02-01"),
    )
    assert response.status_code == 302
    info = cached_config(agency.pk).divisions["E"]
    assert info.substation_phone == "+15205550177"
    assert info.go_live_date == dt.date(2026, 2, 1)
    [event] = audits("config.division_changed")
    assert event.detail["fields"] == ["substation_phone", "go_live_date"]
    assert event.detail["values"] == {"go_live_date": {"old": "2099-01-01", "new": "2026-02-01"}}


def test_bad_division_phone_shows_a_field_error_and_saves_nothing(
    signed_in: SignIn, agency: Agency
) -> None:
    division = agency.divisions.get(code="W")
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-division", kwargs={"division_id": division.pk}),
        division_form(division, substation_phone="555-01", name="Renamed"),
    )
    assert field_error(response, "Not a phone number we can dial")
    assert Division.objects.get(pk=division.pk).name == "West"
    assert not audits("config.division_changed")


def test_section_change_is_saved_and_audited_and_a_bad_phone_refused(
    signed_in: SignIn, agency: Agency
) -> None:
    client = signed_in(Role.SUPERVISOR)
    section = agency.sections.get(code="PROP")
    url = reverse("staff:config-section", kwargs={"section_id": section.pk})
    bad = client.post(url, {"name": "Property", "phone": "call us", "hours": ""})
    assert field_error(bad, "Not a phone number we can dial")
    assert InvestigativeSection.objects.get(pk=section.pk).name == "Property Crimes"
    cached_config(agency.pk)
    good = client.post(url, {"name": "Property", "phone": "+1 520 555 0160", "hours": "24/7"})
    assert good.status_code == 302
    assert cached_config(agency.pk).offenses["23F"].section_phone == "+15205550160"
    [event] = audits("config.section_changed")
    assert event.detail == {"fields": ["name", "phone", "hours"]}


def test_unchanged_form_saves_without_an_audit_entry(signed_in: SignIn, agency: Agency) -> None:
    section = agency.sections.get(code="PROP")
    response = signed_in(Role.SUPERVISOR).post(
        reverse("staff:config-section", kwargs={"section_id": section.pk}),
        {"name": section.name, "phone": section.phone, "hours": section.hours},
        follow=True,
    )
    assert "Nothing was changed" in response.content.decode()
    assert not audits("config.section_changed")


# Who may.


def test_another_agencys_objects_are_not_found(
    signed_in: SignIn, agency: Agency, other_agency: Agency
) -> None:
    client = signed_in(Role.SUPERVISOR)
    offense = other_agency.offense_codes.get(code="23F")
    division = other_agency.divisions.get(code="W")
    section = other_agency.sections.get(code="PROP")
    urls = [
        reverse("staff:config-offense", kwargs={"offense_id": offense.pk}),
        reverse("staff:config-division", kwargs={"division_id": division.pk}),
        reverse("staff:config-section", kwargs={"section_id": section.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Taken over"}).status_code == 404, url
    assert Division.objects.get(pk=division.pk).name == "West"


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.CLERK, Role.ANALYST, Role.AUDITOR])
def test_roles_without_configure_are_refused(signed_in: SignIn, agency: Agency, role: str) -> None:
    client = signed_in(role)
    division = agency.divisions.get(code="W")
    for url in [
        reverse("staff:config"),
        reverse("staff:config-agency"),
        reverse("staff:config-case-updates"),
        reverse("staff:config-offenses"),
        reverse("staff:config-division", kwargs={"division_id": division.pk}),
    ]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("staff:config-agency"), agency_form(agency, adult_age="12"))
    assert response.status_code == 403
    assert Agency.objects.get(pk=agency.pk).adult_age == 18


# Providers.


def route(agency: Agency, position: int, provider: str = "outbox-sms", rate: int = 0) -> Any:
    return ProviderRoute.objects.create(
        agency=agency,
        channel="sms",
        position=position,
        provider=provider,
        messages_per_second=rate,
    )


def test_providers_page_shows_routes_health_and_switches_to_an_administrator(
    signed_in: SignIn, agency: Agency
) -> None:
    route(agency, 0, "twilio", 10)
    route(agency, 1, "outbox-sms")
    ProviderHealth.objects.create(
        provider="twilio",
        up=False,
        down_since=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC),
        last_error="HTTP 503 from the provider",
    )
    ProviderEvent.objects.create(provider="twilio", event="down", detail="HTTP 503")
    response = signed_in(Role.AGENCY_ADMIN).get(reverse("staff:providers"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "twilio" in body and "HTTP 503 from the provider" in body
    assert "2026-03-01 05:00" in body  # down since, in Phoenix time
    assert "taken out of use" in body


def test_supervisor_is_refused_the_providers_pages(signed_in: SignIn, agency: Agency) -> None:
    client = signed_in(Role.SUPERVISOR)
    first = route(agency, 0)
    assert client.get(reverse("staff:providers")).status_code == 403
    url = reverse("staff:provider-route", kwargs={"route_id": first.pk})
    assert client.post(url, {"provider": "outbox-sms", "messages_per_second": 5}).status_code == 403
    assert ProviderRoute.objects.get(pk=first.pk).messages_per_second == 0


def test_route_rate_change_is_saved_audited_and_used_for_the_next_send(
    signed_in: SignIn, agency: Agency
) -> None:
    first = route(agency, 0)
    response = signed_in(Role.AGENCY_ADMIN).post(
        reverse("staff:provider-route", kwargs={"route_id": first.pk}),
        {"provider": "outbox-sms", "messages_per_second": "25"},
    )
    assert response.status_code == 302
    assert choose(agency.pk, "sms").messages_per_second == 25
    [event] = audits("config.provider_route_changed")
    assert event.detail == {
        "fields": ["messages_per_second"],
        "values": {"messages_per_second": {"old": 0, "new": 25}},
    }


def test_route_for_the_wrong_channel_is_refused(signed_in: SignIn, agency: Agency) -> None:
    first = route(agency, 0)
    response = signed_in(Role.AGENCY_ADMIN).post(
        reverse("staff:provider-route", kwargs={"route_id": first.pk}),
        {"provider": "smtp", "messages_per_second": "1"},
    )
    assert field_error(response, "Select a valid choice")
    assert ProviderRoute.objects.get(pk=first.pk).provider == "outbox-sms"


def test_routes_are_reordered_and_added(signed_in: SignIn, agency: Agency) -> None:
    client = signed_in(Role.AGENCY_ADMIN)
    first, second = route(agency, 0, "twilio"), route(agency, 1, "outbox-sms")
    move = reverse("staff:provider-route", kwargs={"route_id": second.pk})
    assert client.post(move, {"action": "up"}).status_code == 302
    assert choose(agency.pk, "sms").provider == "outbox-sms"
    assert ProviderRoute.objects.get(pk=first.pk).position == 1
    [event] = audits("config.provider_route_changed")
    assert event.detail["values"] == {"position": {"old": 1, "new": 0}}

    added = client.post(
        reverse("staff:providers"),
        {"channel": "sms", "provider": "smpp", "messages_per_second": "4"},
    )
    assert added.status_code == 302
    new = ProviderRoute.objects.get(agency=agency, provider="smpp")
    assert (new.channel, new.position, new.messages_per_second) == ("sms", 2, 4)
    assert audits("config.provider_route_added")[0].object_id == str(new.pk)


def test_another_agencys_route_is_not_found(
    signed_in: SignIn, agency: Agency, other_agency: Agency
) -> None:
    theirs = route(other_agency, 0, rate=3)
    client = signed_in(Role.AGENCY_ADMIN)
    url = reverse("staff:provider-route", kwargs={"route_id": theirs.pk})
    assert client.get(url).status_code == 404
    for data in (
        {"provider": "outbox-sms", "messages_per_second": "9"},
        {"action": "up"},
        {"action": "remove"},
    ):
        assert client.post(url, data).status_code == 404
    assert ProviderRoute.objects.get(pk=theirs.pk).messages_per_second == 3


def test_a_route_is_removed_with_an_audit_entry(signed_in: SignIn, agency: Agency) -> None:
    first = route(agency, 0)
    url = reverse("staff:provider-route", kwargs={"route_id": first.pk})
    assert signed_in(Role.AGENCY_ADMIN).post(url, {"action": "remove"}).status_code == 302
    assert not ProviderRoute.objects.filter(pk=first.pk).exists()
    [event] = audits("config.provider_route_removed")
    assert event.object_id == str(first.pk)
