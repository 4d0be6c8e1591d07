"""Forms for the configuration pages, and what every configuration change does after it is
saved: an audit entry naming the fields, and the agency's cached configuration dropped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from victim_notify.accounts.audit import record_request
from victim_notify.agencies import config as agency_config
from victim_notify.agencies.models import (
    Agency,
    Division,
    InvestigativeSection,
    OffenseCode,
    OffenseGroup,
    OffenseText,
    SensitiveCategory,
)
from victim_notify.contacts.normalise import normalise_phone

_RELATIONSHIP_CODE = re.compile(r"^[A-Z]{2}$")


# The models' choice labels are English only; the staff pages show these instead.
CATEGORY_LABELS: dict[str, Any] = {
    SensitiveCategory.DOMESTIC_VIOLENCE: _("Domestic violence"),
    SensitiveCategory.SEXUAL_OFFENSE: _("Sexual offense"),
    SensitiveCategory.CHILD_ABUSE: _("Child abuse"),
    SensitiveCategory.DEATH: _("Homicide or death investigation"),
    SensitiveCategory.SUICIDE: _("Suicide"),
    SensitiveCategory.HUMAN_TRAFFICKING: _("Human trafficking"),
    SensitiveCategory.STALKING: _("Stalking"),
}
GROUP_LABELS: dict[str, Any] = {
    OffenseGroup.PERSON: _("Crime against a person"),
    OffenseGroup.PROPERTY: _("Property crime"),
    OffenseGroup.SOCIETY: _("Crime against society"),
    OffenseGroup.TRAFFIC: _("Traffic"),
    OffenseGroup.OTHER: _("Other"),
}
CHANNEL_LABELS: dict[str, Any] = {"sms": _("Text"), "email": _("Email")}


class _ConfigForm(forms.ModelForm):
    """A model form whose model may raise errors about fields this page does not show (the
    agency's other settings): those are shown above the form, not turned into a crash."""

    def _update_errors(self, errors: ValidationError) -> None:
        if hasattr(errors, "error_dict"):
            moved: dict[str, list[Any]] = {}
            for name, messages in errors.error_dict.items():
                key = name if name in self.fields else NON_FIELD_ERRORS
                moved.setdefault(key, []).extend(messages)
            errors = ValidationError(moved)
        super()._update_errors(errors)  # type: ignore[misc]  # private Django API, not in the stubs


class AgencySettingsForm(_ConfigForm):
    call_wait_minutes = forms.CharField(
        required=False,
        label=_("Text a waiting caller after (minutes, by priority)"),
        help_text=_(
            "Priority=minutes pairs separated by commas, e.g. 3=30, 4=45. A priority not "
            "listed gets no waiting text."
        ),
    )
    call_natures_not_texted = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Call types whose callers are never texted"),
        help_text=_(
            "Words separated by commas, matched as whole words in the call type, e.g. DV, "
            "DOMESTIC. The phone may be a suspect's."
        ),
    )
    excluded_categories = forms.MultipleChoiceField(
        choices=list(CATEGORY_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Kinds of case whose victims are never written to"),
    )
    dv_relationship_codes = forms.CharField(
        required=False,
        label=_("Relationship codes that make a case domestic violence"),
        help_text=_(
            "NIBRS victim-to-suspect relationship codes, two letters each, separated by commas "
            "or spaces, e.g. SE, BG, XS."
        ),
    )

    class Meta:
        model = Agency
        fields = [
            "quiet_hours_start",
            "quiet_hours_end",
            "post_approval_delay_minutes",
            "max_message_age_hours",
            "sms_enabled",
            "email_enabled",
            "email_only_without_text",
            "sms_segment_cap",
            "excluded_categories",
            "dv_relationship_codes",
            "adult_age",
            "notify_businesses",
            "notify_reporting_parties",
            "intake_quiet_day_hours",
            "intake_quiet_night_hours",
            "call_texts_enabled",
            "call_wait_minutes",
            "call_natures_not_texted",
            "still_open_days",
            "deadline_warning_hours",
        ]
        widgets = {
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        labels = {
            "quiet_hours_start": _("Quiet hours start"),
            "quiet_hours_end": _("Quiet hours end"),
            "post_approval_delay_minutes": _("Wait after approval (minutes)"),
            "max_message_age_hours": _("Maximum message age (hours)"),
            "sms_enabled": _("Send text messages"),
            "email_enabled": _("Send emails"),
            "email_only_without_text": _("Email only people who get no text"),
            "sms_segment_cap": _("Most segments in one text"),
            "adult_age": _("Adult age"),
            "notify_businesses": _("Write to businesses that are victims"),
            "notify_reporting_parties": _("Write to reporting parties"),
            "call_texts_enabled": _("Text callers about their call (from CAD)"),
            "still_open_days": _("Tell victims a case is still open after (days without news)"),
            "deadline_warning_hours": _("Warn supervisors before a deadline (hours)"),
            "intake_quiet_day_hours": _("Alarm after a quiet feed, by day (hours)"),
            "intake_quiet_night_hours": _("Alarm after a quiet feed, at night (hours)"),
        }
        help_texts = {
            "quiet_hours_start": _(
                "Local time texts stop, e.g. 21:00. Leave both times empty for no quiet hours."
            ),
            "quiet_hours_end": _("Local time texts may go again, e.g. 08:00."),
            "post_approval_delay_minutes": _(
                "Reports are often returned or reclassified soon after approval."
            ),
            "max_message_age_hours": _(
                "A message older than this is not sent; waiting for quiet hours does not count."
            ),
            "email_only_without_text": _("Also emails anyone whose text fails for good."),
            "sms_segment_cap": _(
                "Longer texts use the template's compact form with a link to the details page."
            ),
            "adult_age": _("Younger victims are not written to directly."),
            "intake_quiet_day_hours": _(
                "Administrators are emailed when a source sends nothing for this long between "
                "07:00 and 21:00, or longer if its usual gaps are longer. 0 turns it off."
            ),
            "intake_quiet_night_hours": _("The same between 21:00 and 07:00."),
            "still_open_days": _("For example 28. 0: never."),
            "deadline_warning_hours": _(
                "Supervisors are emailed when a victim's notice is this close to its legal "
                "deadline and no message has reached them."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["dv_relationship_codes"] = ", ".join(self.instance.dv_relationship_codes)
        self.initial["call_wait_minutes"] = ", ".join(
            f"{k}={v}" for k, v in sorted(self.instance.call_wait_minutes.items())
        )
        self.initial["call_natures_not_texted"] = ", ".join(self.instance.call_natures_not_texted)
        for name in ("max_message_age_hours", "sms_segment_cap", "adult_age"):
            self.fields[name].validators.append(MinValueValidator(1))
        self.fields["sms_segment_cap"].validators.append(MaxValueValidator(10))
        self.fields["adult_age"].validators.append(MaxValueValidator(25))

    def clean_call_wait_minutes(self) -> dict[str, int]:
        waits: dict[str, int] = {}
        for pair in re.split(r"[,;\n]+", self.cleaned_data["call_wait_minutes"]):
            if not pair.strip():
                continue
            priority, _sep, minutes = pair.partition("=")
            if not priority.strip() or not minutes.strip().isdigit() or int(minutes) > 1440:
                raise ValidationError(
                    _("Write priority=minutes (0 to 1440), e.g. 3=30: %(pair)s"),
                    params={"pair": pair.strip()},
                )
            waits[priority.strip().upper().lstrip("P")] = int(minutes)
        return waits

    def clean_call_natures_not_texted(self) -> list[str]:
        words = re.split(r"[,;\n]+", self.cleaned_data["call_natures_not_texted"])
        return list(dict.fromkeys(w.strip() for w in words if w.strip()))

    def clean_dv_relationship_codes(self) -> list[str]:
        codes = [c for c in re.split(r"[\s,;]+", self.cleaned_data["dv_relationship_codes"]) if c]
        codes = list(dict.fromkeys(code.upper() for code in codes))
        wrong = [code for code in codes if not _RELATIONSHIP_CODE.match(code)]
        if wrong:
            raise ValidationError(
                _("Not a two-letter relationship code: %(codes)s"),
                params={"codes": ", ".join(wrong)},
            )
        return codes

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if self.has_error("quiet_hours_start") or self.has_error("quiet_hours_end"):
            return cleaned
        start, end = cleaned.get("quiet_hours_start"), cleaned.get("quiet_hours_end")
        if (start is None) != (end is None):
            missing = "quiet_hours_end" if end is None else "quiet_hours_start"
            self.add_error(missing, _("Give both times, or leave both empty."))
        elif start is not None and start == end:
            self.add_error(
                "quiet_hours_end",
                _("The end is the same as the start; leave both empty for no quiet hours."),
            )
        return cleaned


class OffenseForm(_ConfigForm):
    class Meta:
        model = OffenseCode
        fields = ["title", "sensitive_category", "section", "group"]
        labels = {
            "title": _("Title"),
            "sensitive_category": _("Sensitive category"),
            "section": _("Investigative section"),
            "group": _("Group"),
        }
        help_texts = {
            "title": _("Staff's name for the code; victims read the title in their language."),
            "sensitive_category": _(
                "Victims of offenses in a category the agency excludes are never written to."
            ),
            "group": _("For comparing results by kind of crime."),
        }

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = agency.sections.all()  # type: ignore[attr-defined]
        category = self.fields["sensitive_category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [
            ("", _("None")),
            *CATEGORY_LABELS.items(),
        ]
        group = self.fields["group"]
        assert isinstance(group, forms.ChoiceField)
        group.choices = [("", _("Not set")), *GROUP_LABELS.items()]


class OffenseTextForm(_ConfigForm):
    """The offense's words in one language. A language with no words yet may stay empty."""

    class Meta:
        model = OffenseText
        fields = ["title", "explanation", "explanation_short", "next_steps", "next_steps_short"]
        widgets = {
            "explanation": forms.Textarea(attrs={"rows": 3}),
            "next_steps": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "title": _("Title the victim reads"),
            "explanation": _("What it means (email and details page)"),
            "explanation_short": _("What it means, for texts"),
            "next_steps": _("What happens next (email and details page)"),
            "next_steps_short": _("What happens next, for texts"),
        }

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        is_new = kwargs["instance"].pk is None
        super().__init__(data, empty_permitted=is_new, use_required_attribute=not is_new, **kwargs)

    def to_save(self) -> bool:
        return self.instance.pk is not None or self.has_changed()


class _PhoneForm(_ConfigForm):
    """Phones are kept in E.164, as the model asks; a number typed the local way is turned
    into it with the agency's region, or refused."""

    phone_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = agency.phone_region

    def _clean_phone(self, name: str) -> str:
        raw = self.cleaned_data.get(name, "")
        result = normalise_phone(raw, self.region)
        if result.value is None:
            raise ValidationError(
                _("Not a phone number we can dial (%(why)s). Use a form like +15205550101."),
                params={"why": result.error or _("empty")},
            )
        return result.value


class DivisionForm(_PhoneForm):
    class Meta:
        model = Division
        fields = ["name", "substation_name", "substation_phone", "go_live_date"]
        widgets = {"go_live_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        labels = {
            "name": _("Name"),
            "substation_name": _("Substation name"),
            "substation_phone": _("Substation phone"),
            "go_live_date": _("Go-live date"),
        }
        help_texts = {
            "substation_phone": _("Told to every victim; E.164, e.g. +15205550101."),
            "go_live_date": _(
                "Before this date the division is not live: its reports are not notified. Leave "
                "it empty to keep the division off. The experiment's staged rollout compares "
                "divisions before and after this date, so set it to the day notices really start."
            ),
        }

    def clean_substation_phone(self) -> str:
        return self._clean_phone("substation_phone")


class SectionForm(_PhoneForm):
    class Meta:
        model = InvestigativeSection
        fields = ["name", "phone", "hours"]
        labels = {"name": _("Name"), "phone": _("Phone"), "hours": _("Hours")}
        help_texts = {
            "phone": _("Told to victims of the section's offenses; E.164, e.g. +15205550150."),
            "hours": _("e.g. Mon–Fri 8 a.m.–5 p.m."),
        }

    def clean_phone(self) -> str:
        return self._clean_phone("phone")


# What a configuration change leaves behind.


def values_of(obj: models.Model, fields: list[str], prefix: str = "") -> dict[str, Any]:
    """The current values of `fields`, to compare before and after a save."""
    return {f"{prefix}{name}": _plain(getattr(obj, name)) for name in fields}


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list):
        return list(value)
    return value


def record_change(
    request: HttpRequest,
    thing: str,
    target: models.Model,
    before: dict[str, Any],
    after: dict[str, Any],
    *,
    show_values: frozenset[str] = frozenset(),
) -> list[str]:
    """Audit a saved change (field names, and old and new values of the short fields named in
    `show_values`) and drop the cached configuration. Returns the changed field names."""
    changed = [name for name, value in after.items() if before.get(name) != value]
    if not changed:
        return []
    detail: dict[str, Any] = {"fields": changed}
    shown = {
        name: {"old": _loggable(before.get(name)), "new": _loggable(after[name])}
        for name in changed
        if name in show_values
    }
    if shown:
        detail["values"] = shown
    record_request(request, f"config.{thing}_changed", target=target, detail=detail)
    agency_config.forget(request.agency.pk)  # type: ignore[attr-defined]
    return changed


def _loggable(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
