"""Names for what audit entries point at: each action code in words, and each object as a
person knows it (a report's number, a staff member's username), found with one query per kind
of object on a page and linked only for a reader whose role may open it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy

from victim_notify.accounts.models import AuditEvent, StaffMember
from victim_notify.agencies.models import Division, InvestigativeSection, OffenseCode
from victim_notify.intake.models import QuarantinedRecord, Report
from victim_notify.messages.models import MessageTemplate
from victim_notify.staff.access import can
from victim_notify.surveys.models import Experiment

REPORT = "intake.report"

# What each action code means, for people who did not write the code. Codes not listed (a new
# one, or one only older entries have) are shown as they are.
ACTION_LABELS: dict[str, Any] = {
    "admin.listed": gettext_lazy("Listed records in the admin site"),
    "admin.viewed": gettext_lazy("Viewed a record in the admin site"),
    "api_token.issued": gettext_lazy("Issued an API token"),
    "api_token.revoked": gettext_lazy("Revoked an API token"),
    "audit.exported": gettext_lazy("Downloaded audit entries"),
    "audit.verified": gettext_lazy("Checked the audit trail"),
    "audit.viewed": gettext_lazy("Viewed the audit log"),
    "compliance.told_another_way": gettext_lazy(
        "Recorded that a victim was told of a case event another way"
    ),
    "config.agency_changed": gettext_lazy("Changed agency settings"),
    "config.division_changed": gettext_lazy("Changed a division"),
    "config.experiment_changed": gettext_lazy("Changed an experiment"),
    "config.mapping_changed": gettext_lazy("Changed an RMS export mapping"),
    "config.mapping_created": gettext_lazy("Added an RMS export mapping"),
    "config.mapping_deleted": gettext_lazy("Deleted an RMS export mapping"),
    "config.mapping_tried": gettext_lazy("Tried an RMS export mapping on a sample"),
    "config.offense_changed": gettext_lazy("Changed an offense code"),
    "config.provider_route_added": gettext_lazy("Added a provider"),
    "config.provider_route_changed": gettext_lazy("Changed a provider"),
    "config.provider_route_removed": gettext_lazy("Removed a provider"),
    "config.section_changed": gettext_lazy("Changed an investigative section"),
    "config.template_changed": gettext_lazy("Changed a message template"),
    "experiment.exported": gettext_lazy("Downloaded experiment results"),
    "experiment.report_viewed": gettext_lazy("Viewed experiment results"),
    "login.failed": gettext_lazy("Failed sign-in"),
    "login.locked_out": gettext_lazy("Locked out after failed sign-ins"),
    "login.mfa_failed": gettext_lazy("Wrong authenticator code"),
    "login.refused_unused": gettext_lazy("Sign-in refused: account unused"),
    "login.succeeded": gettext_lazy("Signed in"),
    "logout": gettext_lazy("Signed out"),
    "mfa.enrolled": gettext_lazy("Set up the authenticator app"),
    "notification.cancelled": gettext_lazy("Cancelled a message"),
    "notification.held": gettext_lazy("Held a message"),
    "notification.released": gettext_lazy("Released a held message"),
    "notification.viewed": gettext_lazy("Viewed a message"),
    "opt_out.lifted": gettext_lazy("Lifted an opt-out"),
    "opt_out.recorded": gettext_lazy("Recorded an opt-out"),
    "party.contact_corrected": gettext_lazy("Corrected a contact"),
    "party.do_not_contact_cleared": gettext_lazy("Cleared do-not-contact"),
    "party.do_not_contact_set": gettext_lazy("Marked do-not-contact"),
    "party.viewed": gettext_lazy("Viewed a person's contacts"),
    "password.changed": gettext_lazy("Changed their password"),
    "quarantine.discarded": gettext_lazy("Discarded a quarantined record"),
    "quarantine.replayed": gettext_lazy("Replayed a quarantined record"),
    "quarantine.viewed": gettext_lazy("Viewed a quarantined record"),
    "replies.viewed": gettext_lazy("Viewed the replies"),
    "reply.handled": gettext_lazy("Handled a reply"),
    "report.search": gettext_lazy("Searched reports"),
    "report.viewed": gettext_lazy("Viewed a report"),
    "survey_report.viewed": gettext_lazy("Viewed survey results in the admin site"),
    "user.created": gettext_lazy("Created a staff account"),
    "user.disabled": gettext_lazy("Switched an account off"),
    "user.disabled_unused": gettext_lazy("Switched off an unused account"),
    "user.enabled": gettext_lazy("Switched an account back on"),
    "user.mfa_reset": gettext_lazy("Reset an authenticator app"),
    "user.password_set": gettext_lazy("Set a staff member's password"),
    "user.role_changed": gettext_lazy("Changed a role"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


@dataclass(frozen=True)
class Shown:
    """An object as the page names it: "Report 2612-0000048", linked if the reader may open
    its page."""

    text: str
    url: str = ""


# For the ids of one kind of object on a page: the agency's objects among them, id → name.
Loader = Callable[[Any, list[int]], dict[int, str]]


@dataclass(frozen=True)
class ObjectKind:
    noun: Any
    load: Loader
    url_name: str
    kwarg: str
    capability: str


def _load_reports(agency: Any, ids: list[int]) -> dict[int, str]:
    # Report numbers are the police's reference, not personal data.
    found = Report.objects.filter(agency=agency, pk__in=ids)
    return dict(found.values_list("pk", "report_number"))


def _load_staff(agency: Any, ids: list[int]) -> dict[int, str]:
    found = StaffMember.objects.filter(agency=agency, user_id__in=ids)
    return dict(found.values_list("user_id", "user__username"))


def _load_quarantined(agency: Any, ids: list[int]) -> dict[int, str]:
    found = QuarantinedRecord.objects.filter(agency=agency, pk__in=ids)
    return {pk: str(pk) for pk in found.values_list("pk", flat=True)}


def _load_templates(agency: Any, ids: list[int]) -> dict[int, str]:
    found = MessageTemplate.objects.filter(agency=agency, pk__in=ids)
    return {
        t.pk: f"{t.get_kind_display()} · {t.get_channel_display()} · {t.language}"
        for t in found.only("pk", "kind", "channel", "language")
    }


def _load_names(model: Any, *fields: str) -> Loader:
    def load(agency: Any, ids: list[int]) -> dict[int, str]:
        found = model.objects.filter(agency=agency, pk__in=ids).values_list("pk", *fields)
        return {pk: " ".join(str(value) for value in values) for pk, *values in found}

    return load


OBJECT_KINDS: dict[str, ObjectKind] = {
    REPORT: ObjectKind(
        gettext_lazy("Report"), _load_reports, "staff:report", "report_id", "view_people"
    ),
    "auth.user": ObjectKind(
        gettext_lazy("Staff member"), _load_staff, "staff:user", "user_id", "users"
    ),
    "intake.quarantinedrecord": ObjectKind(
        gettext_lazy("Record"),
        _load_quarantined,
        "staff:quarantine-record",
        "record_id",
        "quarantine",
    ),
    "messages.messagetemplate": ObjectKind(
        gettext_lazy("Template"),
        _load_templates,
        "staff:config-template",
        "template_id",
        "configure",
    ),
    "surveys.experiment": ObjectKind(
        gettext_lazy("Experiment"),
        _load_names(Experiment, "name"),
        "staff:experiment",
        "experiment_id",
        "experiments",
    ),
    "agencies.offensecode": ObjectKind(
        gettext_lazy("Offense code"),
        _load_names(OffenseCode, "code"),
        "staff:config-offense",
        "offense_id",
        "configure",
    ),
    "agencies.division": ObjectKind(
        gettext_lazy("Division"),
        _load_names(Division, "code", "name"),
        "staff:config-division",
        "division_id",
        "configure",
    ),
    "agencies.investigativesection": ObjectKind(
        gettext_lazy("Section"),
        _load_names(InvestigativeSection, "code", "name"),
        "staff:config-section",
        "section_id",
        "configure",
    ),
}


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _reports_named(detail: Any) -> list[int]:
    """The report ids an entry's detail holds: the report it concerns, a search's results."""
    if not isinstance(detail, dict):
        return []
    results = detail.get("results")
    candidates = [detail.get("report"), *(results if isinstance(results, list) else [])]
    return [pk for pk in map(int_or_none, candidates) if pk is not None]


class Names:
    """The names of every object a page of entries mentions, found with one query per kind."""

    def __init__(self, request: HttpRequest, events: list[AuditEvent]) -> None:
        self.request = request
        wanted: dict[str, set[int]] = {}
        for event in events:
            pk = int_or_none(event.object_id)
            if event.object_type in OBJECT_KINDS and pk is not None:
                wanted.setdefault(event.object_type, set()).add(pk)
            wanted.setdefault(REPORT, set()).update(_reports_named(event.detail))
        agency = request.agency  # type: ignore[attr-defined]
        self.names = {
            kind: OBJECT_KINDS[kind].load(agency, sorted(ids))
            for kind, ids in wanted.items()
            if ids
        }

    def name(self, object_type: str, pk: int | None) -> str | None:
        return self.names.get(object_type, {}).get(pk) if pk is not None else None

    def shown(self, object_type: str, object_id: Any) -> Shown | None:
        """The object named and, for a reader who may open it, linked; None if it is not one
        of the agency's objects of a kind the page knows."""
        pk = int_or_none(object_id)
        name = self.name(object_type, pk)
        if name is None:
            return None
        kind = OBJECT_KINDS[object_type]
        url = ""
        if can(self.request.user, kind.capability):
            url = reverse(kind.url_name, kwargs={kind.kwarg: pk})
        return Shown(f"{kind.noun} {name}", url)

    def detail(self, detail: Any) -> list[tuple[str, str]]:
        """The detail's keys and values, with report ids given as report numbers."""
        if not isinstance(detail, dict):
            return []
        pairs = []
        for key, value in sorted(detail.items()):
            if key == "report":
                value = self.name(REPORT, int_or_none(value)) or value
            elif key == "results" and isinstance(value, list):
                value = ", ".join(self.name(REPORT, int_or_none(v)) or str(v) for v in value) or "–"
            pairs.append((key, str(value)))
        return pairs
