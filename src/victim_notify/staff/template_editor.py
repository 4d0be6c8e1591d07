"""/staff/config/templates: the agency's message templates, edited with a live preview.

The preview renders the draft with a made-up report through the same functions real messages
go through (messages/render.py, in the Jinja sandbox), so what staff see, segment count and
encoding included, is what a victim would get. Saving goes through the model's own checks and
save(), which makes a new TemplateRevision that later notifications pin.
"""

from __future__ import annotations

import datetime as dt
import re
import traceback
from dataclasses import dataclass, replace
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.agencies.config import AgencyConfig, load_config
from victim_notify.calls.intake import call_context
from victim_notify.cases.notify import case_context, event_day
from victim_notify.intake.models import Report
from victim_notify.messages import sms
from victim_notify.messages.answers import answer_context
from victim_notify.messages.models import (
    CALL_KINDS,
    CASE_KINDS,
    MessageKind,
    MessageTemplate,
    TemplateRevision,
)
from victim_notify.messages.render import (
    Rendered,
    RenderOptions,
    facts_for,
    format_when,
    render_answer,
    render_email,
    render_sms,
)
from victim_notify.messages.schedule import snapshot
from victim_notify.messages.templating import placeholders_for, validate_template
from victim_notify.staff.access import requires
from victim_notify.staff.config_forms import CHANNEL_LABELS, record_change, values_of

CONTENT = ("subject", "text", "compact_text", "html")
FIELDS_BY_CHANNEL = {"sms": ["text", "compact_text"], "email": ["subject", "text", "html"]}

# The made-up report every preview shows; fixed, so two previews differ only by the draft.
SAMPLE_REPORT_NUMBER = "26-004217"
SAMPLE_OFFICER = ("Dana Whitfield", "4471")
SAMPLE_REPORTED_AT = dt.datetime(2026, 3, 14, 22, 42, tzinfo=dt.UTC)
SAMPLE_RECIPIENT = "Ana"


@dataclass(frozen=True)
class Draft:
    """Template wording not saved yet, in the shape the renderers take."""

    subject: str = ""
    text: str = ""
    compact_text: str = ""
    html: str = ""


class TemplateForm(forms.ModelForm):
    base_version = forms.IntegerField(widget=forms.HiddenInput)
    show_update = forms.BooleanField(required=False, label=gettext_lazy("Show as an update"))
    show_guardian = forms.BooleanField(
        required=False, label=gettext_lazy("Show as written to a parent or guardian")
    )

    class Meta:
        model = MessageTemplate
        fields = list(CONTENT)
        widgets = {
            "text": forms.Textarea(attrs={"rows": 10, "class": "mono"}),
            "compact_text": forms.Textarea(attrs={"rows": 5, "class": "mono"}),
            "html": forms.Textarea(attrs={"rows": 14, "class": "mono"}),
        }
        labels = {
            "subject": gettext_lazy("Subject"),
            "text": gettext_lazy("Text"),
            "compact_text": gettext_lazy("Compact text"),
            "html": gettext_lazy("HTML body"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        template: MessageTemplate = self.instance
        for name in set(CONTENT) - set(FIELDS_BY_CHANNEL[template.channel]):
            del self.fields[name]
        self.initial.setdefault("base_version", template.version)
        if template.channel == "sms":
            self.fields["text"].help_text = _("The text message as the phone shows it.")
            self.fields["compact_text"].help_text = _(
                "Sent instead when the text is longer than the agency's segment cap; "
                "must include {{ details_url }}."
            )
        else:
            self.fields["text"].help_text = _("The plain-text part of the email.")
            self.fields["html"].help_text = _(
                "Goes inside the agency's email layout; values are escaped for you."
            )
        if template.kind != MessageKind.REPORT_FILED:
            del self.fields["show_update"]
            del self.fields["show_guardian"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        stored = MessageTemplate.objects.get(pk=self.instance.pk).version
        if cleaned.get("base_version") != stored:
            raise ValidationError(
                _(
                    "Someone saved this template since you opened it. Copy your changes, "
                    "reload the page and make them again."
                )
            )
        return cleaned

    def draft(self) -> Draft:
        """What the form holds now, valid or not, for the preview."""
        data = {name: self.data.get(self.add_prefix(name), "") for name in self.fields}
        stored = {name: getattr(self.instance, name) for name in CONTENT}
        return Draft(
            **{name: str(data.get(name, stored[name])).replace("\r\n", "\n") for name in CONTENT}
        )


@requires("configure")
def template_list(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    rows = MessageTemplate.objects.filter(agency=agency).order_by("kind", "channel", "language")
    return render(
        request,
        "staff/template_list.html",
        {
            "rows": [
                {
                    "template": t,
                    "kind": t.get_kind_display(),
                    "channel": CHANNEL_LABELS.get(t.channel, t.channel),
                }
                for t in rows
            ],
            "zone": agency.timezone,
        },
    )


@requires("configure")
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(MessageTemplate, pk=template_id, agency=request.agency)  # type: ignore[attr-defined]
    form = TemplateForm(request.POST or None, instance=template)
    flags = {"is_update": False, "is_guardian": False}
    if request.method == "POST":
        flags = _flags(request)
        if request.POST.get("action") != "preview" and form.is_valid():
            before = values_of(MessageTemplate.objects.get(pk=template.pk), [*CONTENT, "version"])
            form.save()
            changed = record_change(
                request,
                "template",
                template,
                before,
                values_of(template, [*CONTENT, "version"]),
                show_values=frozenset({"version"}),
            )
            if changed:
                messages.success(
                    request,
                    _("Saved as version %(version)s. Messages from now on use it.")
                    % {"version": template.version},
                )
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("staff:config-template", template_id=template.pk)
        draft = form.draft()
    elif (earlier := _earlier_revision(request, template)) is not None:
        # An earlier version into the editor, to preview and save as a new one: nothing is
        # stored until staff save it, and then it is audited like any other change.
        content = {name: getattr(earlier, name) for name in CONTENT}
        form = TemplateForm(initial=content, instance=template)
        draft = Draft(**content)
        messages.info(
            request,
            _("Version %(version)s is in the editor. Save to use it again as a new version.")
            % {"version": earlier.version},
        )
    else:
        draft = Draft(**{name: getattr(template, name) for name in CONTENT})
    return render(
        request,
        "staff/template_edit.html",
        {
            "template": template,
            "kind": template.get_kind_display(),
            "channel": CHANNEL_LABELS.get(template.channel, template.channel),
            "form": form,
            "placeholders": placeholders_for(template.kind),
            "preview": preview(template, draft, **flags),
            "revisions": template.revisions.order_by("-version")[:10],
            "zone": request.agency.timezone,  # type: ignore[attr-defined]
        },
    )


def _earlier_revision(request: HttpRequest, template: MessageTemplate) -> TemplateRevision | None:
    wanted = request.GET.get("from_version", "")
    if not re.fullmatch(r"[0-9]{1,9}", wanted) or int(wanted) == template.version:
        return None
    return get_object_or_404(TemplateRevision, template=template, version=int(wanted))


@requires("configure")
def template_preview(request: HttpRequest, template_id: int) -> HttpResponse:
    """The preview alone, for htmx to swap in while staff type. Saves nothing."""
    template = get_object_or_404(MessageTemplate, pk=template_id, agency=request.agency)  # type: ignore[attr-defined]
    if request.method != "POST":
        return redirect("staff:config-template", template_id=template.pk)
    draft = TemplateForm(request.POST, instance=template).draft()
    return render(
        request,
        "staff/template_preview.html",
        {"template": template, "preview": preview(template, draft, **_flags(request))},
    )


def _flags(request: HttpRequest) -> dict[str, bool]:
    return {
        "is_update": bool(request.POST.get("show_update")),
        "is_guardian": bool(request.POST.get("show_guardian")),
    }


# The preview.


def preview(
    template: MessageTemplate, draft: Draft, *, is_update: bool, is_guardian: bool
) -> dict[str, Any]:
    """Everything the preview panel shows: problems that would stop a save, and the message as
    the victim would get it (or why it could not be rendered)."""
    result: dict[str, Any] = {"problems": _problems(template, draft), "channel": template.channel}
    config = load_config(template.agency)
    report = sample_report(config, template.language)
    if report is None:
        result["error"] = _(
            "The preview needs an offense code with its words and a division; add them first."
        )
        return result
    try:
        if template.channel == "sms":
            result |= _sms_preview(template, draft, config, report, is_update, is_guardian)
        else:
            result["email"] = _render(template, draft, config, report, is_update, is_guardian)
    except Exception as exc:  # a draft may fail in any way Jinja can; the editor shows it
        result["error"] = _describe(exc)
    return result


def _problems(template: MessageTemplate, draft: Draft) -> list[dict[str, Any]]:
    candidate = MessageTemplate(
        agency=template.agency,
        kind=template.kind,
        channel=template.channel,
        language=template.language,
        **vars(draft),
    )
    try:
        validate_template(candidate)
    except ValidationError as exc:
        labels = dict(TemplateForm.Meta.labels or {})
        return [
            {"field": labels.get(name, name), "messages": problems}
            for name, problems in exc.message_dict.items()
        ]
    return []


def sample_report(config: AgencyConfig, language: str) -> Report | None:
    """A made-up report, never saved, on the agency's first offense code and division that a
    message could really be about: one whose victims are written to, in a live division."""
    default = config.agency.default_language
    excluded = config.policy.excluded_categories
    worded = [o for o in config.offenses.values() if language in o.words or default in o.words]
    offense = next((o for o in worded if o.category not in excluded), None) or next(
        iter(worded), None
    )
    divisions = list(config.divisions.values())
    today = dt.datetime.now(config.zone).date()
    division = next(
        (d for d in divisions if d.go_live_date and d.go_live_date <= today), None
    ) or next(iter(divisions), None)
    if offense is None or division is None:
        return None
    return Report(
        agency=config.agency,
        report_number=SAMPLE_REPORT_NUMBER,
        offense_codes=[offense.code],
        division_id=division.id,
        officer_name=SAMPLE_OFFICER[0],
        officer_badge=SAMPLE_OFFICER[1],
        reported_at=SAMPLE_REPORTED_AT,
        status="approved",
    )


def _render(
    template: MessageTemplate,
    draft: Draft,
    config: AgencyConfig,
    report: Report,
    is_update: bool,
    is_guardian: bool,
) -> Rendered:
    """The draft rendered the way the project renders that kind of message."""
    language = template.language
    if template.kind in CASE_KINDS:
        context = case_context(
            config,
            report,
            language,
            recipient_name=SAMPLE_RECIPIENT,
            is_guardian=is_guardian,
            extra=sample_event(config, language),
        )
        return render_answer(draft, context, config, template.channel, language)
    if template.kind in CALL_KINDS:
        context = call_context(config, "C26-004217", SAMPLE_REPORTED_AT, SAMPLE_REPORT_NUMBER)
        context["wait_minutes"] = 30
        return render_answer(draft, context, config, template.channel, language)
    if template.kind != MessageKind.REPORT_FILED:
        context = answer_context(config, report)
        return render_answer(draft, context, config, template.channel, language)
    facts = facts_for(snapshot(report, config), config, language)
    options: RenderOptions = {
        "recipient_name": SAMPLE_RECIPIENT,
        "is_guardian": is_guardian,
        "is_update": is_update,
    }
    if template.channel == "sms":
        return render_sms(draft, facts, config, **options)
    return render_email(draft, facts, config, language, **options)


def sample_event(config: AgencyConfig, language: str) -> dict[str, str]:
    """Made-up event details for previewing a case-update template."""
    return {
        "event_time": event_day(SAMPLE_REPORTED_AT, config, language),
        "detective_name": "Det. Maria Soto",
        "detective_phone": "(520) 555-0166",
        "appearance_time": format_when(SAMPLE_REPORTED_AT + dt.timedelta(days=2), config, language),
        "court": "Pima County Consolidated Justice Court",
    }


def _sms_preview(
    template: MessageTemplate,
    draft: Draft,
    config: AgencyConfig,
    report: Report,
    is_update: bool,
    is_guardian: bool,
) -> dict[str, Any]:
    cap = config.agency.sms_segment_cap
    sent = _render(template, draft, config, report, is_update, is_guardian)
    full = _render(
        template, replace(draft, compact_text=""), config, report, is_update, is_guardian
    )
    result: dict[str, Any] = {
        "sms": _with_cost(sent),
        "full": _with_cost(full),
        "cap": cap,
        "used_compact": sent.body != full.body,
        "over_cap": sent.segments > cap,
    }
    if draft.compact_text and sent.body == full.body:
        compact = _render(
            template,
            Draft(text=draft.compact_text),
            config,
            report,
            is_update,
            is_guardian,
        )
        result["compact"] = _with_cost(compact)
    return result


def _with_cost(rendered: Rendered) -> dict[str, Any]:
    cost = sms.cost(rendered.body)
    return {
        "body": rendered.body,
        "segments": cost.segments,
        "encoding": cost.encoding,
        "units": cost.units,
        "characters": len(rendered.body),
    }


def _describe(exc: Exception) -> str:
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename == "<template>"
    ]
    lineno = getattr(exc, "lineno", None) or (lines[-1] if lines else None)
    message = getattr(exc, "message", None) or str(exc)
    if lineno:
        return _("Line %(line)s: %(message)s") % {"line": lineno, "message": message}
    return str(message)


urlpatterns = [
    path("config/templates", template_list, name="config-templates"),
    path("config/templates/<int:template_id>", template_edit, name="config-template"),
    path(
        "config/templates/<int:template_id>/preview",
        template_preview,
        name="config-template-preview",
    ),
]
