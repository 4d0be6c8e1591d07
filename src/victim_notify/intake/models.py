"""Reports as the RMS sent them: the current state, every version received, the people on
them, and the records that could not be accepted."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from victim_notify.privacy.fields import (
    BlindIndexField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)


class Source(models.TextChoices):
    API = "api", _("API")
    FILE = "file", _("File")
    SIMULATOR = "simulator", _("Simulated feed")
    DATABASE = "database", _("Database view")
    REPLAY = "replay", _("Replayed from quarantine")


class Report(models.Model):
    # report_number_once (agency, report_number) serves lookups by agency.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="reports", db_index=False
    )
    report_number = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=40)
    occurred_at = models.DateTimeField(null=True, blank=True)
    reported_at = models.DateTimeField()
    approved_at = models.DateTimeField(
        null=True, blank=True, help_text="When a version in an approved status first arrived."
    )
    officer_name = models.CharField(max_length=120)
    officer_badge = models.CharField(max_length=20, blank=True)
    detective_name = models.CharField(max_length=120, blank=True)
    detective_phone = models.CharField(max_length=40, blank=True)
    division = models.ForeignKey(
        "agencies.Division", on_delete=models.PROTECT, related_name="reports"
    )
    offense_codes = models.JSONField(help_text="Offense codes as received, most serious first.")
    domestic_violence = models.BooleanField(default=False)
    do_not_notify = models.BooleanField(default=False)
    needs_advocate_review = models.BooleanField(
        default=False,
        help_text="Set when a safety rule held a message that a person should look at.",
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    legal_hold = models.BooleanField(
        default=False, help_text="Kept whole, whatever the retention period, until released."
    )
    legal_hold_reason = models.CharField(max_length=200, blank=True)
    purged_at = models.DateTimeField(
        null=True, blank=True, help_text="When its personal data was removed (retention)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "report_number"], name="report_number_once")
        ]
        indexes = [models.Index(fields=["agency", "-created_at"])]

    def __str__(self) -> str:
        return self.report_number


class ReportVersion(models.Model):
    """One distinct content of a report, as received. Identical re-sends add nothing."""

    # version_once (report, number) serves lookups by report.
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    payload = EncryptedJSONField(help_text="The record after validation, as stored.")
    warnings = models.JSONField(default=list, help_text="Problems that did not stop the record.")
    source = models.CharField(max_length=16, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="version_once")]
        ordering = ["report", "number"]

    def __str__(self) -> str:
        return f"{self.report.report_number} v{self.number}"


class PartyRole(models.TextChoices):
    VICTIM = "victim", _("Victim")
    REPORTING_PARTY = "reporting_party", _("Reporting party")
    GUARDIAN = "guardian", _("Parent or guardian")
    SUSPECT = "suspect", _("Suspect")
    WITNESS = "witness", _("Witness")


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    BUSINESS = "business", _("Business")


class Party(models.Model):
    # party_once (report, party_id) serves lookups by report.
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="parties", db_index=False
    )
    party_id = models.CharField(
        max_length=40, help_text="The RMS's own key for this person on the report."
    )
    role = models.CharField(max_length=20, choices=PartyRole.choices)
    kind = models.CharField(max_length=10, choices=PartyKind.choices, default=PartyKind.PERSON)
    first_name = EncryptedTextField(blank=True)
    last_name = EncryptedTextField(blank=True)
    business_name = EncryptedTextField(blank=True)
    # Staff search finds people by name through these, not the encrypted names.
    # Indexed in Meta (equality only, so PostgreSQL gets no second LIKE index).
    first_name_index = BlindIndexField(source="first_name", purpose="name")
    last_name_index = BlindIndexField(source="last_name", purpose="name")
    phone = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone_invalid = models.BooleanField(
        default=False, help_text="A phone was given but could not be used."
    )
    phone_is_landline = models.BooleanField(default=False)
    email = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email_invalid = models.BooleanField(
        default=False, help_text="An email was given but could not be used."
    )
    language = models.CharField(max_length=8, blank=True)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    juvenile = models.BooleanField(null=True, blank=True)
    relationships = models.JSONField(
        default=list,
        help_text='To other parties, NIBRS codes: [{"party_id": "3", "code": "BG"}].',
    )
    removed = models.BooleanField(
        default=False, help_text="Not in the latest version of the report."
    )
    do_not_contact = models.BooleanField(
        default=False,
        help_text="Set by staff, not by the RMS: kept when a new version of the report arrives.",
    )
    # Chosen by the person on their case page, not by the RMS: kept across versions.
    preferred_language = models.CharField(max_length=8, blank=True)
    preferred_channel = models.CharField(
        max_length=8, blank=True, choices=[("sms", _("Text")), ("email", _("Email"))]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "party_id"], name="party_once")]
        indexes = [
            models.Index(fields=["first_name_index"], name="party_by_first_name"),
            models.Index(fields=["last_name_index"], name="party_by_last_name"),
        ]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return f"{self.report.report_number} party {self.party_id} ({self.role})"

    @property
    def display_name(self) -> str:
        if self.kind == PartyKind.BUSINESS:
            return self.business_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class QuarantineStatus(models.TextChoices):
    HELD = "held", _("Held")
    REPLAYED = "replayed", _("Replayed")
    DISCARDED = "discarded", _("Discarded")


class QuarantinedRecord(models.Model):
    """A record that could not be accepted, kept whole with what was wrong, for replay."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="quarantine"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    source_name = models.CharField(max_length=300, blank=True, help_text="File name or API client.")
    record_index = models.PositiveIntegerField(null=True, blank=True)
    report_number = models.CharField(max_length=40, blank=True)
    raw = EncryptedTextField(help_text="The record exactly as received.")
    errors = models.JSONField(help_text='[{"pointer": "/parties/0/phone", "message": "..."}]')
    status = models.CharField(
        max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.HELD
    )
    received_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["agency", "status", "-received_at"])]

    def __str__(self) -> str:
        return f"quarantined {self.report_number or '(no number)'} #{self.pk}"


class ImportFile(models.Model):
    """A file taken in once: the same bytes dropped again are recognised and skipped."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="imports")
    name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=12, default="queued")
    summary = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "sha256"], name="import_file_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class IntakeWatch(models.Model):
    """When each of an agency's feeds was last heard from, how long its gaps usually are, and
    whether it is now quiet for longer than that (an alarm, emailed to the administrators)."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="intake_watches"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    last_heard_at = models.DateTimeField()
    usual_gap_day = models.DurationField(
        null=True, blank=True, help_text="Learned from the last 28 days, 07:00 to 21:00."
    )
    usual_gap_night = models.DurationField(null=True, blank=True)
    learned_at = models.DateTimeField(null=True, blank=True)
    quiet_since = models.DateTimeField(
        null=True, blank=True, help_text="Set while the alarm is raised: when it was last heard."
    )
    alarm_raised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "source"], name="one_watch_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.source}"


class CsvMapping(models.Model):
    """How one RMS's CSV export reads as report records: which of its columns holds each of
    our fields, its own values for ours (its offense codes, statuses, roles), and the formats
    of its dates. Files dropped with a name matching `file_pattern` are read with it."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="csv_mappings"
    )
    name = models.CharField(max_length=100, help_text="For people, e.g. 'Versaterm nightly'.")
    file_pattern = models.CharField(
        max_length=100,
        help_text="Dropped files whose names match this are read with this mapping, e.g. "
        "rms-*.csv (case does not matter).",
    )
    columns = models.JSONField(
        default=dict,
        blank=True,
        help_text='Our field → their column, e.g. {"report_number": "CASE_NO"}; offenses may '
        'name several columns: {"offenses": ["OFFENSE_1", "OFFENSE_2"]}.',
    )
    fixed_values = models.JSONField(
        default=dict,
        blank=True,
        help_text="Our field → a value for every row, for what the export leaves out, e.g. "
        '{"status": "approved"}.',
    )
    value_maps = models.JSONField(
        default=dict,
        blank=True,
        help_text='Our field → {their value: ours}, e.g. {"role": {"V": "victim"}}. A value not '
        "in the map is taken as it is.",
    )
    datetime_format = models.CharField(
        max_length=40,
        blank=True,
        help_text="How their report and occurrence times are written, e.g. %m/%d/%Y %H:%M; "
        "blank: ISO 8601.",
    )
    date_format = models.CharField(
        max_length=40,
        blank=True,
        help_text="How their dates of birth are written, e.g. %m/%d/%Y; blank: ISO 8601.",
    )
    delimiter = models.CharField(max_length=2, default=",")
    list_separator = models.CharField(
        max_length=2, default=";", help_text="Between several values in one cell."
    )
    encoding = models.CharField(
        max_length=20,
        default="utf-8",
        choices=[("utf-8", "UTF-8"), ("cp1252", "Windows-1252")],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="csv_mapping_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class FeedPurpose(models.TextChoices):
    REPORTS = "reports", _("Reports, read as they change")
    CONTACTS = "contacts", _("Contacts for NIBRS files")


class DatabaseFeed(models.Model):
    """A view in a database of the agency's (PostgreSQL or MariaDB) that Victim Notify reads.

    Reports: one row per person on a report, in our CSV columns or through a CSV mapping; the
    worker reads the reports changed since the high-water mark (the change time and report
    number of the last report read), each with all its rows. Contacts: the contacts feed of
    NIBRS files, in the contacts columns, looked up by incident number."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="database_feeds"
    )
    name = models.CharField(max_length=100, help_text="For people, e.g. 'RMS reporting view'.")
    purpose = models.CharField(
        max_length=10, choices=FeedPurpose.choices, default=FeedPurpose.REPORTS
    )
    database_url = EncryptedTextField(
        help_text="e.g. postgresql+psycopg://notify:secret@rms-db/rms or "
        "mysql+pymysql://notify:secret@rms-db/rms; a read-only account is enough."
    )
    view = models.CharField(max_length=200, help_text="The view (or table), e.g. rms.vn_people.")
    mapping = models.ForeignKey(
        CsvMapping,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="How the view's columns read as ours; none when it has our CSV columns.",
    )
    changed_column = models.CharField(
        max_length=100,
        blank=True,
        help_text="Reports: the time each row last changed (set by the RMS on every change).",
    )
    settle_seconds = models.PositiveIntegerField(
        default=30,
        help_text="Reports: rows are read once they are this old, so a change still being "
        "committed is not passed by; keep it above the RMS's longest transaction.",
    )
    poll_seconds = models.PositiveIntegerField(default=30)
    enabled = models.BooleanField(default=True)
    high_water_changed = models.CharField(
        max_length=40,
        blank=True,
        help_text="Reports: rows changed after this (ISO 8601) are read next; blank starts "
        "from the first poll.",
    )
    high_water_key = models.CharField(
        max_length=40, blank=True, help_text="Reports: the last report read at that time."
    )
    polling_until = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="database_feed_name_once")
        ]

    def __str__(self) -> str:
        return self.name
