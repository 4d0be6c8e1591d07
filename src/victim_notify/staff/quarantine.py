"""Quarantine: records intake could not accept, kept whole with what was wrong. A clerk
corrects the fields the errors point at (or the whole record) and replays it through intake,
or discards it with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import record_request
from victim_notify.agencies.models import Agency, Division, OffenseCode
from victim_notify.intake import corrections
from victim_notify.intake.models import QuarantinedRecord, QuarantineStatus, Report, Source
from victim_notify.intake.replay import read_raw, replay
from victim_notify.staff.access import requires

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

PER_PAGE = 50
MAX_FIELDS = 100  # more errors than this are corrected in the full record

STATUSES: dict[str, _StrPromise] = {
    QuarantineStatus.HELD: gettext_lazy("Waiting for a decision"),
    QuarantineStatus.REPLAYED: gettext_lazy("Replayed"),
    QuarantineStatus.DISCARDED: gettext_lazy("Discarded"),
}
SOURCES: dict[str, _StrPromise] = {
    Source.API: gettext_lazy("API"),
    Source.FILE: gettext_lazy("File"),
    Source.SIMULATOR: gettext_lazy("Simulated feed"),
    Source.REPLAY: gettext_lazy("Replayed from quarantine"),
}
DISCARD_REASONS = {
    "duplicate": gettext_lazy("Duplicate of another record"),
    "test": gettext_lazy("Test record"),
    "not_a_report": gettext_lazy("Not a crime report"),
    "other": gettext_lazy("Other"),
}


class QuarantineFilter(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[*STATUSES.items(), ("all", gettext_lazy("All"))],
    )


@dataclass(frozen=True)
class Suggestions:
    """The agency's own codes offered for a field that holds one of them, since clerks cannot
    open the configuration to look them up."""

    list_id: str  # the <datalist> id; "" when the field holds several codes (a CSV cell)
    options: list[tuple[str, str]]  # (code, what it means)
    hint: Promise


OFFENSE_HINT = gettext_lazy("Codes this agency uses; pick the one the RMS meant.")
OFFENSE_CELL_HINT = gettext_lazy(
    "Codes this agency uses; pick the ones the RMS meant, separated by a semicolon (;)."
)
DIVISION_HINT = gettext_lazy("Divisions of this agency; pick the one the RMS meant.")


def suggestions_for(agency: Agency, pointer: str) -> Suggestions | None:
    """Codes to offer for the field at `pointer`: offense codes for an offense, divisions for
    the division; None for any other field."""
    parts = corrections.tokens(pointer)
    if parts[:1] == ["offenses"] and len(parts) <= 2:
        offenses = OffenseCode.objects.filter(agency=agency).order_by("code")
        options = [(o.code, o.title) for o in offenses]
        if len(parts) == 2:
            return Suggestions("offense-codes", options, OFFENSE_HINT)
        return Suggestions("", options, OFFENSE_CELL_HINT)  # a CSV cell: "23F;220"
    if parts == ["division"]:
        divisions = Division.objects.filter(agency=agency).order_by("code")
        return Suggestions("division-codes", [(d.code, d.name) for d in divisions], DIVISION_HINT)
    return None


@dataclass(frozen=True)
class CorrectionInput:
    field: forms.BoundField
    suggestions: Suggestions | None


class CorrectionForm(forms.Form):
    """One input per field an error points at, and the whole raw record for anything else.
    Which field each input edits travels with the form, since the errors shown after a failed
    replay are not the ones stored with the record."""

    raw = forms.CharField(
        label=gettext_lazy("Full record"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy(
            "The record as received, for any correction the fields above cannot make, such as "
            "renaming a field. Changes in the fields above are applied on top of it."
        ),
    )

    def __init__(
        self, pointers: list[str], *args: Any, agency: Agency | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.pointers = pointers
        self.suggestions: dict[str, Suggestions] = {}
        for n, pointer in enumerate(pointers):
            name = f"fix-{n}"
            field = forms.CharField(
                label=field_label(pointer),
                help_text=format_html(
                    '<span class="quarantine-pointer">{} <code>{}</code></span>',
                    _("In the record:"),
                    pointer,
                ),
                required=False,
                strip=False,
                max_length=10_000,
            )
            described = [f"id_{name}_helptext"]
            offered = suggestions_for(agency, pointer) if agency is not None else None
            if offered is not None:
                self.suggestions[name] = offered
                described.append(f"id_{name}_hint")
                if offered.list_id:
                    field.widget.attrs.update(list=offered.list_id, autocomplete="off")
            field.widget.attrs["aria-describedby"] = " ".join(described)
            self.fields[name] = field
            self.fields[f"{name}-at"] = forms.CharField(required=False, widget=forms.HiddenInput)
            # What the input showed: only a changed input is an edit, so a correction made in
            # the full record is not undone by the unchanged input beside it.
            self.fields[f"{name}-was"] = forms.CharField(
                required=False, strip=False, widget=forms.HiddenInput
            )

    def inputs(self) -> list[CorrectionInput]:
        return [
            CorrectionInput(self[f"fix-{n}"], self.suggestions.get(f"fix-{n}"))
            for n in range(len(self.pointers))
        ]

    def datalists(self) -> list[Suggestions]:
        """Each list once, however many inputs offer it."""
        lists = {s.list_id: s for s in self.suggestions.values() if s.list_id}
        return list(lists.values())

    def mark_invalid(self, name: str) -> None:
        attrs = self.fields[name].widget.attrs
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{attrs['aria-describedby']} id_{name}_error"

    def edits(self) -> dict[str, str]:
        """The inputs the clerk changed, by the pointer each edits."""
        changed = {}
        for n, pointer in enumerate(self.pointers):
            text = self.cleaned_data.get(f"fix-{n}", "")
            if text != self.cleaned_data.get(f"fix-{n}-was", ""):
                changed[pointer] = text
        return changed


class DiscardForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[("", gettext_lazy("Choose a reason")), *DISCARD_REASONS.items()],
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=200,
        widget=forms.TextInput,
        help_text=gettext_lazy("Which record it duplicates, or why it is not needed."),
    )


# Words for the fields of a record, by the name the RMS sends. The first word of a label is
# capitalised ("Reported at", "Person 1"); the words after it are not ("Person 1 – phone").
REPORT_FIELDS = {
    "report_number": gettext_lazy("Report number"),
    "status": gettext_lazy("Status"),
    "reported_at": gettext_lazy("Reported at"),
    "occurred_at": gettext_lazy("Occurred at"),
    "officer": gettext_lazy("Officer"),
    "officer_name": gettext_lazy("Officer name"),
    "officer_badge": gettext_lazy("Officer badge"),
    "division": gettext_lazy("Division"),
    "offenses": gettext_lazy("Offenses"),
    "domestic_violence": gettext_lazy("Domestic violence"),
    "do_not_notify": gettext_lazy("Do not notify"),
    "parties": gettext_lazy("People"),
    "detective": gettext_lazy("Detective"),
    "detective_name": gettext_lazy("Detective name"),
    "detective_phone": gettext_lazy("Detective phone"),
}
NESTED_FIELDS = {
    "name": gettext_lazy("name"),
    "badge": gettext_lazy("badge"),
    "party_id": gettext_lazy("person ID"),
    "role": gettext_lazy("role"),
    "kind": gettext_lazy("person or business"),
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "business_name": gettext_lazy("business name"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("email"),
    "language": gettext_lazy("language"),
    "date_of_birth": gettext_lazy("date of birth"),
    "juvenile": gettext_lazy("juvenile"),
    "relationships": gettext_lazy("relationships"),
    "code": gettext_lazy("code"),
}
NUMBERED_FIELDS = {
    ("parties", True): gettext_lazy("Person %(n)s"),
    ("offenses", True): gettext_lazy("Offense %(n)s"),
    ("relationships", False): gettext_lazy("relationship %(n)s"),
}


def field_label(pointer: str) -> str:
    """ "/parties/0/phone" → "Person 1 – phone": a pointer in words a clerk reads. A name we do
    not know is shown as the record spells it."""
    try:
        parts = corrections.tokens(pointer)
    except corrections.CorrectionError:
        return pointer
    words: list[str] = []
    for index, part in enumerate(parts):
        first = not words
        following = parts[index + 1] if index + 1 < len(parts) else ""
        numbered = NUMBERED_FIELDS.get((part, first))
        if numbered is not None and following.isdigit():
            words.append(str(numbered % {"n": int(following) + 1}))
            continue
        previous = parts[index - 1] if index else ""
        if part.isdigit() and (previous, index == 1) in NUMBERED_FIELDS:
            continue  # already in the word before it
        known = (REPORT_FIELDS if first else NESTED_FIELDS).get(part)
        words.append(str(known) if known is not None else part)
    return " – ".join(words) or _("The whole record")


def labelled(errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Stored errors, each with its pointer in words beside it."""
    return [
        {**error, "label": field_label(error["pointer"]) if error.get("pointer") else ""}
        for error in errors
    ]


def correction_form(
    raw: str, errors: list[dict[str, str]], agency: Agency | None = None
) -> CorrectionForm:
    """The form for `raw`, an input per field an error points at, each filled with what `raw`
    holds there and showing its errors; errors about the record as a whole go on top."""
    pointers: list[str] = []
    placed: list[tuple[str | None, dict[str, str]]] = []
    for error in errors:
        field = corrections.field_for(raw, error.get("pointer", ""))
        if field is not None and field not in pointers and len(pointers) < MAX_FIELDS:
            pointers.append(field)
        placed.append((field if field in pointers else None, error))
    data = {"raw": corrections.readable(raw)}
    for n, pointer in enumerate(pointers):
        data[f"fix-{n}"] = data[f"fix-{n}-was"] = corrections.value_at(raw, pointer)
        data[f"fix-{n}-at"] = pointer
    form = CorrectionForm(pointers, data, agency=agency)
    form.is_valid()
    by_field: dict[str, list[str]] = {}
    for field, error in placed:
        where, message = error.get("pointer", ""), error.get("message", "")
        text = message if where == field or not where else f"{where}: {message}"
        if field is None:
            form.add_error(None, text)
        else:
            by_field.setdefault(field, []).append(text)
    for n, pointer in enumerate(pointers):
        if pointer in by_field:
            # One message per field: the error's id is what the input is described by.
            form.add_error(f"fix-{n}", "; ".join(by_field[pointer]))
            form.mark_invalid(f"fix-{n}")
    return form


@requires("quarantine")
def quarantine_list(request: HttpRequest) -> HttpResponse:
    filters = QuarantineFilter(request.GET or None)
    status = (filters.cleaned_data["status"] if filters.is_valid() else "") or "held"
    records = QuarantinedRecord.objects.filter(agency=request.agency).defer("raw")  # type: ignore[attr-defined]
    if status != "all":
        records = records.filter(status=status)
    page = Paginator(records.order_by("-received_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    links = {}
    for name, has, number in (
        ("previous", page.has_previous, page.previous_page_number),
        ("next", page.has_next, page.next_page_number),
    ):
        if has():
            query["page"] = str(number())
            links[name] = "?" + query.urlencode()
    rows = []
    for record in page.object_list:
        errors = labelled(record.errors or [])
        rows.append(
            {
                "record": record,
                "source": SOURCES.get(record.source, record.source),
                "status": STATUSES.get(record.status, record.status),
                "errors": errors[:3],
                "more": max(0, len(errors) - 3),
            }
        )
    context = {"filters": filters, "page": page, "rows": rows, "links": links}
    with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
        return render(request, "staff/quarantine.html", context)


def _record_page(
    request: HttpRequest,
    record: QuarantinedRecord,
    form: CorrectionForm | None = None,
    discard: DiscardForm | None = None,
    still_invalid: bool = False,
) -> HttpResponse:
    # The raw record holds names, phones and addresses: every showing of it is audited.
    record_request(request, "quarantine.viewed", target=record)
    held = record.status == QuarantineStatus.HELD
    if held and form is None:
        form = correction_form(record.raw, record.errors or [], request.agency)  # type: ignore[attr-defined]
    context = {
        "record": record,
        "source": SOURCES.get(record.source, record.source),
        "status": STATUSES.get(record.status, record.status),
        "held": held,
        "form": form,
        "discard": discard or DiscardForm(),
        "still_invalid": still_invalid,
        "stored_errors": labelled(record.errors or []),
        "raw": corrections.readable(record.raw),
    }
    with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
        return render(request, "staff/quarantine_record.html", context)


def _get(request: HttpRequest, record_id: int) -> QuarantinedRecord:
    return get_object_or_404(QuarantinedRecord, pk=record_id, agency=request.agency)  # type: ignore[attr-defined]


@requires("quarantine")
def quarantine_record(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _get(request, record_id)
    if request.method != "POST":
        return _record_page(request, record)
    if record.status != QuarantineStatus.HELD:
        messages.warning(request, _("This record was already dealt with; nothing was changed."))
        return redirect("staff:quarantine-record", record_id=record.pk)
    return _save_and_replay(request, record)


def _posted_pointers(request: HttpRequest) -> list[str]:
    pointers: list[str] = []
    while len(pointers) < MAX_FIELDS and f"fix-{len(pointers)}-at" in request.POST:
        pointers.append(request.POST[f"fix-{len(pointers)}-at"])
    return pointers


def _save_and_replay(request: HttpRequest, record: QuarantinedRecord) -> HttpResponse:
    form = CorrectionForm(_posted_pointers(request), request.POST, agency=request.agency)  # type: ignore[attr-defined]
    if not form.is_valid():
        return _record_page(request, record, form=form)
    base = form.cleaned_data["raw"].replace("\r\n", "\n")
    try:
        edited = corrections.apply(base, form.edits())
    except corrections.CorrectionError as exc:
        form.add_error(None, str(exc))
        return _record_page(request, record, form=form)

    fields = corrections.changed_fields(record.raw, edited)
    found = corrections.problems(request.agency, edited, record.record_index or 0)  # type: ignore[attr-defined]
    if found:
        _audit_replay(request, record, fields, "still_invalid")
        again = correction_form(edited, [e.as_dict() for e in found], request.agency)  # type: ignore[attr-defined]
        return _record_page(request, record, form=again, still_invalid=True)

    claimed = QuarantinedRecord.objects.filter(pk=record.pk, status=QuarantineStatus.HELD).update(
        raw=edited
    )
    if not claimed:
        messages.warning(request, _("This record was already dealt with; nothing was changed."))
        return redirect("staff:quarantine-record", record_id=record.pk)
    record.raw = edited
    outcome = replay(record)
    _audit_replay(request, record, fields, outcome)
    if outcome == "quarantined":
        # Valid, yet it could not be stored: the new quarantined record says why.
        newer = (
            QuarantinedRecord.objects.filter(
                agency=record.agency, source=Source.REPLAY, source_name=f"quarantine #{record.pk}"
            )
            .order_by("-pk")
            .first()
        )
        messages.error(request, _("The record could not be stored; it is held again."))
        return redirect("staff:quarantine-record", record_id=(newer or record).pk)
    messages.success(request, _accepted_message(record, edited, outcome))
    return redirect("staff:quarantine")


def _accepted_message(record: QuarantinedRecord, raw: str, outcome: str) -> str:
    data = read_raw(raw, 0).data
    number = str(data.get("report_number", "")) if isinstance(data, dict) else ""
    report = Report.objects.filter(agency=record.agency, report_number=number).first()
    words = {
        "accepted": _("Report %(number)s was taken in."),
        "amended": _("Report %(number)s was taken in as a new version."),
        "unchanged": _("Report %(number)s was already on file with the same content."),
    }
    text = words.get(outcome, words["accepted"]) % {"number": number}
    if report is None:
        return text
    url = reverse("staff:report", kwargs={"report_id": report.pk})
    return format_html('{} <a href="{}">{}</a>', text, url, _("Open the report"))


def _audit_replay(
    request: HttpRequest, record: QuarantinedRecord, fields: list[str], outcome: str
) -> None:
    record_request(
        request, "quarantine.replayed", target=record, detail={"fields": fields, "outcome": outcome}
    )


@requires("quarantine")
@require_POST
def quarantine_discard(request: HttpRequest, record_id: int) -> HttpResponse:
    record = _get(request, record_id)
    form = DiscardForm(request.POST)
    if record.status != QuarantineStatus.HELD:
        messages.warning(request, _("This record was already dealt with; nothing was changed."))
        return redirect("staff:quarantine-record", record_id=record.pk)
    if not form.is_valid():
        return _record_page(request, record, discard=form)
    reason, note = form.cleaned_data["reason"], form.cleaned_data["note"].strip()
    resolution = f"discarded ({reason})" + (f": {note}" if note else "")
    discarded = QuarantinedRecord.objects.filter(pk=record.pk, status=QuarantineStatus.HELD).update(
        status=QuarantineStatus.DISCARDED,
        resolved_at=timezone.now(),
        resolution_note=resolution[:300],
    )
    if discarded:
        record_request(request, "quarantine.discarded", target=record, detail={"reason": reason})
        messages.success(
            request,
            _("Record %(id)s was discarded: %(reason)s.")
            % {"id": record.pk, "reason": DISCARD_REASONS[reason]},
        )
    else:
        messages.warning(request, _("This record was already dealt with; nothing was changed."))
    return redirect("staff:quarantine")


urlpatterns = [
    path("quarantine", quarantine_list, name="quarantine"),
    path("quarantine/<int:record_id>", quarantine_record, name="quarantine-record"),
    path("quarantine/<int:record_id>/discard", quarantine_discard, name="quarantine-discard"),
]
