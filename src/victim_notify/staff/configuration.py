"""/staff/config: what an agency configures (timing, exclusions, offense codes and their words,
divisions, investigative sections), with the template editor and the providers page in their
own modules. Every change is audited by field name and reaches the workers' cached
configuration."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from victim_notify.agencies.models import (
    Agency,
    Division,
    InvestigativeSection,
    OffenseCode,
    OffenseGroup,
    OffenseText,
    SensitiveCategory,
)
from victim_notify.messages.models import MessageTemplate
from victim_notify.staff import providers_page, template_editor
from victim_notify.staff.access import can, requires
from victim_notify.staff.config_forms import (
    CATEGORY_LABELS,
    GROUP_LABELS,
    AgencySettingsForm,
    DivisionForm,
    OffenseForm,
    OffenseTextForm,
    SectionForm,
    record_change,
    values_of,
)

TEXT_FIELDS = OffenseTextForm.Meta.fields
SHORT_LIMITS = {"explanation_short": 160, "next_steps_short": 200}


def agency_today(agency: Agency) -> dt.date:
    return timezone.localtime(timezone.now(), agency.zone).date()


def saved(request: HttpRequest, changed: list[str], what: str) -> None:
    if changed:
        messages.success(request, _("%(what)s saved.") % {"what": what})
    else:
        messages.info(request, _("Nothing was changed."))


@requires("configure")
def index(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    offenses = OffenseCode.objects.filter(agency=agency)
    today = agency_today(agency)
    divisions = Division.objects.filter(agency=agency)
    summary = {
        "offenses": offenses.count(),
        "sensitive": offenses.exclude(sensitive_category="").count(),
        "excluded": offenses.filter(sensitive_category__in=agency.excluded_categories).count(),
        "divisions": divisions.count(),
        "live": divisions.filter(go_live_date__lte=today).count(),
        "sections": InvestigativeSection.objects.filter(agency=agency).count(),
        "templates": MessageTemplate.objects.filter(agency=agency).count(),
    }
    return render(
        request,
        "staff/config.html",
        {
            "agency": agency,
            "summary": summary,
            "channels": [
                label
                for enabled, label in (
                    (agency.sms_enabled, _("text")),
                    (agency.email_enabled, _("email")),
                )
                if enabled
            ],
            "may_edit_providers": can(request.user, "providers"),
            "may_keep_records": can(request.user, "records"),
        },
    )


def save_agency_form(request: HttpRequest, form: Any, what: str) -> bool:
    """Save a posted, valid form of the agency's own settings, audit what changed (with old
    and new values) and say so. False when there is nothing to save yet."""
    if request.method != "POST" or not form.is_valid():
        return False
    fields = list(form.Meta.fields)
    before = values_of(Agency.objects.get(pk=form.instance.pk), fields)
    agency = form.save()
    changed = record_change(
        request, "agency", agency, before, values_of(agency, fields), show_values=frozenset(fields)
    )
    saved(request, changed, what)
    return True


@requires("configure")
def agency_settings(request: HttpRequest) -> HttpResponse:
    agency = Agency.objects.get(pk=request.agency.pk)  # type: ignore[attr-defined]
    form = AgencySettingsForm(request.POST or None, instance=agency)
    if save_agency_form(request, form, _("Agency settings")):
        return redirect("staff:config-agency")
    return render(request, "staff/config_agency.html", {"form": form})


@requires("configure")
def offense_list(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    rows = OffenseCode.objects.filter(agency=agency).select_related("section")
    terms = request.GET.get("q", "").strip()
    group = request.GET.get("group", "")
    category = request.GET.get("category", "")
    if terms:
        rows = rows.filter(Q(code__icontains=terms) | Q(title__icontains=terms))
    if group in OffenseGroup.values:
        rows = rows.filter(group=group)
    if category == "none":
        rows = rows.filter(sensitive_category="")
    elif category == "excluded":
        rows = rows.filter(sensitive_category__in=agency.excluded_categories)
    elif category in SensitiveCategory.values:
        rows = rows.filter(sensitive_category=category)
    excluded = set(agency.excluded_categories)
    return render(
        request,
        "staff/config_offenses.html",
        {
            "offenses": [
                {
                    "offense": o,
                    "category": CATEGORY_LABELS.get(o.sensitive_category, ""),
                    "group": GROUP_LABELS.get(o.group, ""),
                    "excluded": o.sensitive_category in excluded,
                }
                for o in rows
            ],
            "terms": terms,
            "group": group,
            "category": category,
            "groups": GROUP_LABELS.items(),
            "categories": CATEGORY_LABELS.items(),
        },
    )


def agency_languages(agency: Agency) -> list[str]:
    """The languages the agency writes in, its default first."""
    others = agency.languages.exclude(language=agency.default_language)
    return [agency.default_language, *others.values_list("language", flat=True)]


@requires("configure")
def offense_detail(request: HttpRequest, offense_id: int) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    offense = get_object_or_404(OffenseCode, pk=offense_id, agency=agency)
    data = request.POST or None
    form = OffenseForm(data, instance=offense, agency=agency)
    existing = {t.language: t for t in offense.texts.all()}
    text_forms = [
        (
            language,
            OffenseTextForm(
                data,
                instance=existing.get(language) or OffenseText(offense=offense, language=language),
                prefix=f"text-{language}",
            ),
        )
        for language in agency_languages(agency)
    ]
    valid = form.is_valid() and all([f.is_valid() for _lang, f in text_forms])
    if request.method == "POST" and valid:
        before = _offense_values(OffenseCode.objects.get(pk=offense.pk))
        with transaction.atomic():
            form.save()
            for _language, text_form in text_forms:
                if text_form.to_save():
                    text_form.save()
        changed = record_change(
            request,
            "offense",
            offense,
            before,
            _offense_values(offense),
            show_values=frozenset({"sensitive_category", "group", "section"}),
        )
        saved(request, changed, _("Offense code %(code)s") % {"code": offense.code})
        return redirect("staff:config-offense", offense_id=offense.pk)
    return render(
        request,
        "staff/config_offense.html",
        {
            "offense": offense,
            "form": form,
            "text_forms": text_forms,
            "short_limits": SHORT_LIMITS,
            "excluded": offense.sensitive_category in agency.excluded_categories,
            "category": CATEGORY_LABELS.get(offense.sensitive_category, ""),
        },
    )


def _offense_values(offense: OffenseCode) -> dict[str, Any]:
    values = values_of(offense, list(OffenseForm.Meta.fields))
    for text in OffenseText.objects.filter(offense=offense):
        values |= values_of(text, list(TEXT_FIELDS), prefix=f"texts.{text.language}.")
    return values


@requires("configure")
def division_list(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    today = agency_today(agency)
    rows = [
        (d, d.go_live_date is not None and d.go_live_date <= today)
        for d in Division.objects.filter(agency=agency)
    ]
    return render(request, "staff/config_divisions.html", {"divisions": rows})


@requires("configure")
def division_detail(request: HttpRequest, division_id: int) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    division = get_object_or_404(Division, pk=division_id, agency=agency)
    return _edit(
        request,
        division,
        DivisionForm,
        thing="division",
        template="staff/config_division.html",
        back="staff:config-division",
        back_kwargs={"division_id": division.pk},
        show_values=frozenset({"go_live_date"}),
        extra={"today": agency_today(agency)},
    )


@requires("configure")
def section_list(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    return render(
        request,
        "staff/config_sections.html",
        {"sections": InvestigativeSection.objects.filter(agency=agency)},
    )


@requires("configure")
def section_detail(request: HttpRequest, section_id: int) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    section = get_object_or_404(InvestigativeSection, pk=section_id, agency=agency)
    return _edit(
        request,
        section,
        SectionForm,
        thing="section",
        template="staff/config_section.html",
        back="staff:config-section",
        back_kwargs={"section_id": section.pk},
        extra={"offense_count": section.offenses.count()},
    )


def _edit(
    request: HttpRequest,
    obj: Division | InvestigativeSection,
    form_class: type[DivisionForm] | type[SectionForm],
    *,
    thing: str,
    template: str,
    back: str,
    back_kwargs: dict[str, int],
    show_values: frozenset[str] = frozenset(),
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """One object's form: shown, or saved, audited and redirected back with a message."""
    fields = list(form_class.Meta.fields)
    form = form_class(request.POST or None, instance=obj, agency=request.agency)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        before = values_of(type(obj).objects.get(pk=obj.pk), fields)
        form.save()
        changed = record_change(
            request, thing, obj, before, values_of(obj, fields), show_values=show_values
        )
        saved(request, changed, str(obj.name))
        return redirect(reverse(back, kwargs=back_kwargs))
    return render(request, template, {"object": obj, "form": form, **(extra or {})})


urlpatterns = [
    path("config", index, name="config"),
    path("config/agency", agency_settings, name="config-agency"),
    path("config/offenses", offense_list, name="config-offenses"),
    path("config/offenses/<int:offense_id>", offense_detail, name="config-offense"),
    path("config/divisions", division_list, name="config-divisions"),
    path("config/divisions/<int:division_id>", division_detail, name="config-division"),
    path("config/sections", section_list, name="config-sections"),
    path("config/sections/<int:section_id>", section_detail, name="config-section"),
    *template_editor.urlpatterns,
    *providers_page.urlpatterns,
]
