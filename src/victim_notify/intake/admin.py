from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from victim_notify.intake.models import (
    DatabaseFeed,
    ImportFile,
    Party,
    QuarantinedRecord,
    QuarantineStatus,
    Report,
    ReportVersion,
)
from victim_notify.intake.replay import replay
from victim_notify.replies.models import InboundMessage


class PartyInline(admin.TabularInline):
    model = Party
    extra = 0
    fields = [
        "party_id",
        "role",
        "kind",
        "first_name",
        "last_name",
        "phone",
        "email",
        "language",
        "date_of_birth",
        "juvenile",
        "removed",
    ]
    raw_id_fields = ["phone", "email"]


class VersionInline(admin.TabularInline):
    model = ReportVersion
    extra = 0
    fields = ("number", "source", "received_at", "content_hash")
    readonly_fields = fields
    can_delete = False


class ReplyInline(admin.TabularInline):
    """Replies that most likely answer this report (shown here until the staff timeline)."""

    model = InboundMessage
    fk_name = "report"
    extra = 0
    fields = (
        "received_at",
        "channel",
        "intent",
        "urgent",
        "body",
        "handled_at",
        "handled_by_name",
    )
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "report_number",
        "agency",
        "version",
        "status",
        "division",
        "reported_at",
        "needs_advocate_review",
    ]
    list_filter = ["agency", "status", "needs_advocate_review", "division"]
    search_fields = ["=report_number"]
    inlines = [PartyInline, VersionInline, ReplyInline]
    # A legal hold is placed and released from the staff app or `legal-hold`, which record who
    # and why in the audit trail; the purge alone sets purged_at.
    readonly_fields = ["legal_hold", "legal_hold_reason", "purged_at"]


@admin.register(ReportVersion)
class ReportVersionAdmin(admin.ModelAdmin):
    list_display = ["report", "number", "source", "received_at"]
    readonly_fields = [f.name for f in ReportVersion._meta.fields]

    # Versions are the record of what the RMS sent: never typed in, edited or deleted here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "agency",
        "report_number",
        "source",
        "source_name",
        "record_index",
        "status",
        "received_at",
    ]
    list_filter = ["agency", "status", "source"]
    search_fields = ["=report_number"]
    readonly_fields = [
        "agency",
        "source",
        "source_name",
        "record_index",
        "report_number",
        "errors",
        "received_at",
        "resolved_at",
    ]
    actions = ["replay_records", "discard_records"]

    @admin.action(description="Replay the selected records (after fixing their raw text)")
    def replay_records(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        outcomes = [replay(record) for record in queryset.filter(status=QuarantineStatus.HELD)]
        accepted = sum(1 for o in outcomes if o != "quarantined")
        self.message_user(
            request,
            f"{accepted} accepted, {len(outcomes) - accepted} still invalid.",
            messages.SUCCESS if accepted == len(outcomes) else messages.WARNING,
        )

    @admin.action(description="Discard the selected records")
    def discard_records(self, request: HttpRequest, queryset: QuerySet[QuarantinedRecord]) -> None:
        count = queryset.filter(status=QuarantineStatus.HELD).update(
            status=QuarantineStatus.DISCARDED,
            resolved_at=timezone.now(),
            resolution_note=f"discarded by {request.user}",
        )
        self.message_user(request, f"{count} discarded.")


@admin.register(ImportFile)
class ImportFileAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "status", "created_at", "finished_at"]
    list_filter = ["agency", "status"]
    readonly_fields = [f.name for f in ImportFile._meta.fields]

    def has_add_permission(self, request):
        # Rows are made by the importer; an add form here has nothing to fill in.
        return False


class DatabaseFeedForm(forms.ModelForm):
    # The URL holds the account's password: it is never shown again, and left blank it stays.
    database_url = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=DatabaseFeed._meta.get_field("database_url").help_text
        + " Leave blank to keep the one saved.",
    )

    class Meta:
        model = DatabaseFeed
        fields = [
            "agency",
            "name",
            "purpose",
            "database_url",
            "view",
            "mapping",
            "changed_column",
            "settle_seconds",
            "poll_seconds",
            "enabled",
            "high_water_changed",
            "high_water_key",
        ]

    def clean_database_url(self) -> str:
        url = self.cleaned_data["database_url"] or (
            self.instance.database_url if self.instance.pk else ""
        )
        if not url:
            raise forms.ValidationError("Required.")
        try:
            make_url(url)
        except ArgumentError:
            raise forms.ValidationError(
                "Not a database URL, e.g. postgresql+psycopg://user:secret@host/db"
            ) from None
        return url


@admin.register(DatabaseFeed)
class DatabaseFeedAdmin(admin.ModelAdmin):
    form = DatabaseFeedForm
    list_display = ["name", "agency", "purpose", "view", "enabled", "last_polled_at", "last_error"]
    list_filter = ["agency", "purpose", "enabled"]
    readonly_fields = ["polling_until", "last_polled_at", "last_error"]
