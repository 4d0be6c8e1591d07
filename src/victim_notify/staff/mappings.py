"""/staff/config/mappings: how each RMS's CSV export reads as our report records
(`intake.connectors.mapped_csv`), edited with a dry run on an uploaded sample that shows what
would be accepted, amended, left unchanged and quarantined, and why, before anything is saved.

The sample never reaches the database: it is read, run through intake in a transaction that
is rolled back, and carried between tries in the page itself (it is the editor's own file).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import record_request
from victim_notify.agencies.models import Agency
from victim_notify.intake.connectors import mapped_csv
from victim_notify.intake.files import REQUIRED_COLUMNS, UnreadableFile
from victim_notify.intake.models import CsvMapping, Source
from victim_notify.intake.store import IngestSummary, dry_run
from victim_notify.staff.access import requires
from victim_notify.staff.config_forms import record_change, values_of

SAMPLE_LIMIT = 1024 * 1024  # a sample, not a night's export
SETTINGS = [
    "name",
    "file_pattern",
    "delimiter",
    "encoding",
    "list_separator",
    "datetime_format",
    "date_format",
]
SAVED = [*SETTINGS, "columns", "fixed_values", "value_maps"]

# Our fields as the editor shows them, with what our values are where theirs are mapped.
FIELD_LABELS: dict[str, Any] = {
    "report_number": gettext_lazy("Report number"),
    "status": gettext_lazy("Report status"),
    "reported_at": gettext_lazy("Reported at"),
    "occurred_at": gettext_lazy("Occurred at"),
    "officer_name": gettext_lazy("Reporting officer"),
    "officer_badge": gettext_lazy("Officer's badge"),
    "detective_name": gettext_lazy("Assigned detective"),
    "detective_phone": gettext_lazy("Detective's phone"),
    "division": gettext_lazy("Division"),
    "offenses": gettext_lazy("Offense codes"),
    "domestic_violence": gettext_lazy("Domestic violence"),
    "do_not_notify": gettext_lazy("Do not notify"),
    "party_id": gettext_lazy("Person's number on the report"),
    "role": gettext_lazy("Role"),
    "kind": gettext_lazy("Person or business"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (Last, First)"),
    "business_name": gettext_lazy("Business name"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("Email"),
    "language": gettext_lazy("Language"),
    "date_of_birth": gettext_lazy("Date of birth"),
    "juvenile": gettext_lazy("Juvenile"),
    "relationships": gettext_lazy("Relationships (other person's number:code)"),
}
OUR_VALUES: dict[str, Any] = {
    "status": gettext_lazy("the statuses set in the agency's settings, e.g. approved"),
    "division": gettext_lazy("our division codes"),
    "offenses": gettext_lazy("our offense codes"),
    "role": "victim, reporting_party, guardian, suspect, witness",
    "kind": "person, business",
    "language": "en, es, …",
    "domestic_violence": gettext_lazy("yes or no"),
    "do_not_notify": gettext_lazy("yes or no"),
    "juvenile": gettext_lazy("yes or no"),
    "relationships": gettext_lazy("NIBRS relationship codes, e.g. SE, BG, ST"),
}
assert set(FIELD_LABELS) == set(mapped_csv.FIELDS)


def _value_map_text(value_map: dict[str, str]) -> str:
    return "\n".join(f"{theirs} = {ours}" for theirs, ours in value_map.items())


def _parse_value_map(text: str) -> dict[str, str]:
    value_map: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        theirs, sep, ours = line.partition("=")
        if not sep or not theirs.strip() or not ours.strip():
            raise forms.ValidationError(
                _("Line %(number)d: write their value, then =, then ours (APPR = approved).")
                % {"number": number}
            )
        value_map[theirs.strip()] = ours.strip()
    return value_map


class MappingForm(forms.ModelForm):
    sample = forms.FileField(
        required=False,
        label=gettext_lazy("A sample of their export"),
        help_text=gettext_lazy("Tried, never kept: nothing in it is stored or sent. Up to 1 MB."),
    )

    class Meta:
        model = CsvMapping
        fields = SETTINGS
        labels = {
            "name": gettext_lazy("Name"),
            "file_pattern": gettext_lazy("Files it reads"),
            "delimiter": gettext_lazy("Between columns"),
            "encoding": gettext_lazy("Encoding"),
            "list_separator": gettext_lazy("Between several values in one cell"),
            "datetime_format": gettext_lazy("How their times are written"),
            "date_format": gettext_lazy("How their dates of birth are written"),
        }
        help_texts = {
            "name": gettext_lazy("For people, e.g. the RMS and the export's name."),
            "file_pattern": gettext_lazy(
                "Files dropped for the agency whose names match this are read with this "
                "mapping, e.g. rms-export-*.csv. Case does not matter."
            ),
            "datetime_format": gettext_lazy(
                "With % codes, e.g. %m/%d/%Y %H:%M for 12/01/2026 14:30. Blank: ISO 8601. "
                "Times without an offset are the agency's local time."
            ),
            "date_format": gettext_lazy("e.g. %m/%d/%Y. Blank: ISO 8601 (1980-05-17)."),
            "list_separator": gettext_lazy("e.g. ; for offense codes written 220;23F"),
        }

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.fields["delimiter"] = forms.ChoiceField(
            label=self.fields["delimiter"].label,
            choices=[(",", _("comma")), (";", _("semicolon")), ("|", _("bar |")), ("\t", _("tab"))],
        )
        mapping = self.instance
        for field in mapped_csv.FIELDS:
            columns = mapped_csv.sources(mapping, field)
            self.fields[f"column-{field}"] = forms.CharField(
                required=False,
                max_length=300,
                initial=", ".join(columns),
                label=_("Their column for %(field)s") % {"field": FIELD_LABELS[field]},
            )
            if field != mapped_csv.FULL_NAME:
                self.fields[f"fixed-{field}"] = forms.CharField(
                    required=False,
                    max_length=200,
                    initial=mapping.fixed_values.get(field, ""),
                    label=_("The same value for every row"),
                )
            if field in OUR_VALUES:
                self.fields[f"map-{field}"] = forms.CharField(
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 3}),
                    initial=_value_map_text(mapping.value_maps.get(field, {})),
                    label=_("Their values → ours"),
                )

    def rows(self) -> list[dict[str, Any]]:
        """One row of the editor per field of ours."""
        return [
            {
                "name": field,
                "label": FIELD_LABELS[field],
                "required": field in REQUIRED_COLUMNS,
                "ours": OUR_VALUES.get(field, ""),
                "column": self[f"column-{field}"],
                "fixed": self[f"fixed-{field}"] if f"fixed-{field}" in self.fields else None,
                "map": self[f"map-{field}"] if f"map-{field}" in self.fields else None,
            }
            for field in mapped_csv.FIELDS
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        columns: dict[str, Any] = {}
        fixed: dict[str, str] = {}
        value_maps: dict[str, dict[str, str]] = {}
        for field in mapped_csv.FIELDS:
            names = [n.strip() for n in cleaned.get(f"column-{field}", "").split(",") if n.strip()]
            if len(names) > 1 or (names and field == "offenses"):
                columns[field] = names
            elif names:
                columns[field] = names[0]
            if cleaned.get(f"fixed-{field}", "").strip():
                fixed[field] = cleaned[f"fixed-{field}"].strip()
            if f"map-{field}" in self.fields:
                try:
                    value_map = _parse_value_map(cleaned.get(f"map-{field}", ""))
                except forms.ValidationError as exc:
                    self.add_error(f"map-{field}", exc)
                    continue
                if value_map:
                    value_maps[field] = value_map
        self.instance.agency = self.agency
        self.instance.columns, self.instance.fixed_values = columns, fixed
        self.instance.value_maps = value_maps
        for name in SETTINGS:
            if name in cleaned:
                setattr(self.instance, name, cleaned[name])
        for problem in mapped_csv.problems(self.instance):
            self.add_error(None, problem)
        taken = CsvMapping.objects.filter(agency=self.agency, name=cleaned.get("name"))
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error("name", _("The agency already has a mapping of this name."))
        return cleaned


def _try_sample(
    request: HttpRequest, mapping: CsvMapping, name: str, data: bytes
) -> dict[str, Any]:
    """Read the sample through the mapping and run it through intake without keeping it."""
    agency: Agency = request.agency  # type: ignore[attr-defined]
    result: dict[str, Any] = {"file": name}
    try:
        result["header"] = mapped_csv.header_of(data, mapping)
        records = list(mapped_csv.read_mapped_csv(data, mapping))
    except UnreadableFile as exc:
        result["unreadable"] = str(exc)
    else:
        summary: IngestSummary = dry_run(agency, records, source=Source.FILE, source_name=name)
        used = {c for f in mapped_csv.FIELDS for c in mapped_csv.sources(mapping, f)}
        result.update(
            unused=[c for c in result["header"] if c not in used],
            counts={
                outcome: summary.count(outcome)
                for outcome in ("accepted", "amended", "unchanged", "quarantined")
            },
            queued=summary.notifications_queued,
            results=sorted(summary.results, key=lambda r: r.index),
        )
    # The sample holds names and phones: that it was tried is audited, never its content.
    record_request(
        request,
        "config.mapping_tried",
        target=mapping if mapping.pk else None,
        detail={"file": name[:100], "counts": result.get("counts", "unreadable")},
    )
    return result


def _sample(request: HttpRequest, form: MappingForm) -> tuple[str, bytes] | None:
    """The sample uploaded now, or the one carried in the page from the last try."""
    too_large = _("The sample is larger than 1 MB: cut it down.")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE:
        form.add_error("sample", too_large)  # the file was not kept, even in memory
        return None
    upload = request.FILES.get("sample")
    if upload is not None:
        if upload.size is not None and upload.size > SAMPLE_LIMIT:
            form.add_error("sample", too_large)
            return None
        return upload.name or "sample.csv", upload.read()
    try:
        data = base64.b64decode(request.POST.get("sample_kept", ""), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not data or len(data) > SAMPLE_LIMIT:
        return None
    return request.POST.get("sample_name", "")[:200] or "sample.csv", data


def _save(request: HttpRequest, form: MappingForm, before: dict[str, Any]) -> None:
    created = form.instance.pk is None
    mapping = form.save()
    if created:
        record_request(
            request,
            "config.mapping_created",
            target=mapping,
            detail={"name": mapping.name, "file_pattern": mapping.file_pattern},
        )
        messages.success(request, _("Mapping saved."))
        return
    changed = record_change(request, "mapping", mapping, before, values_of(mapping, SAVED))
    if changed:
        messages.success(request, _("Mapping saved."))
    else:
        messages.info(request, _("Nothing was changed."))


@requires("configure")
def mapping_list(request: HttpRequest) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    return render(
        request,
        "staff/config_mappings.html",
        {"mappings": CsvMapping.objects.filter(agency=agency).order_by("name")},
    )


@never_cache
@requires("configure")
def mapping_edit(request: HttpRequest, mapping_id: int | None = None) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    mapping = (
        get_object_or_404(CsvMapping, pk=mapping_id, agency=agency)
        if mapping_id is not None
        else CsvMapping(agency=agency)
    )
    before = values_of(mapping, SAVED) if mapping.pk else {}
    saved_name = mapping.name  # the form changes the instance before it is saved
    form = MappingForm(request.POST or None, request.FILES or None, instance=mapping, agency=agency)
    sample = _sample(request, form) if request.method == "POST" else None
    tried = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "save":
            _save(request, form, before)
            return redirect("staff:config-mapping", mapping_id=mapping.pk)
        if sample is not None:
            tried = _try_sample(request, mapping, *sample)
        elif "sample" not in form.errors:
            form.add_error("sample", _("Choose a sample file to try the mapping on."))
    carried = {"sample_kept": "", "sample_name": ""}
    if sample is not None:
        carried = {"sample_kept": base64.b64encode(sample[1]).decode(), "sample_name": sample[0]}
    return render(
        request,
        "staff/config_mapping.html",
        {
            "form": form,
            "mapping": mapping,
            "saved_name": saved_name,
            "tried": tried,
            "carried": carried,
        },
    )


@requires("configure")
@require_POST
def mapping_delete(request: HttpRequest, mapping_id: int) -> HttpResponse:
    agency: Agency = request.agency  # type: ignore[attr-defined]
    mapping = get_object_or_404(CsvMapping, pk=mapping_id, agency=agency)
    record_request(
        request,
        "config.mapping_deleted",
        target=mapping,
        detail={"name": mapping.name, "file_pattern": mapping.file_pattern},
    )
    mapping.delete()
    messages.success(request, _("Mapping deleted. Files named for it are no longer read with it."))
    return redirect("staff:config-mappings")


urlpatterns = [
    path("config/mappings", mapping_list, name="config-mappings"),
    path("config/mappings/new", mapping_edit, name="config-mapping-new"),
    path("config/mappings/<int:mapping_id>", mapping_edit, name="config-mapping"),
    path("config/mappings/<int:mapping_id>/delete", mapping_delete, name="config-mapping-delete"),
]
