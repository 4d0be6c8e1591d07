"""Case-status events after the report (a detective assigned, an arrest, a court date...),
the victims' notices about them, and the legal deadlines those notices have."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    DETECTIVE_ASSIGNED = "detective_assigned", _("Detective assigned")
    SUSPECT_ARRESTED = "suspect_arrested", _("Suspect arrested")
    WARRANT_ISSUED = "warrant_issued", _("Warrant issued")
    REFERRED_TO_PROSECUTOR = "referred_to_prosecutor", _("Referred to the prosecutor")
    INITIAL_APPEARANCE = "initial_appearance", _("Initial appearance set")
    CASE_SUSPENDED = "case_suspended", _("Case suspended")
    CASE_CLOSED = "case_closed", _("Case closed")
    PROPERTY_RECOVERED = "property_recovered", _("Property recovered")


class CaseEvent(models.Model):
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="+")
    report = models.ForeignKey(
        "intake.Report", on_delete=models.CASCADE, related_name="case_events"
    )
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    event_id = models.CharField(
        max_length=80, help_text="The RMS's key for the event: the same key again is a re-send."
    )
    occurred_at = models.DateTimeField()
    detective_name = models.CharField(max_length=120, blank=True)
    detective_phone = models.CharField(max_length=40, blank=True)
    appearance_at = models.DateTimeField(null=True, blank=True)
    court = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, default="api")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "event_id"], name="case_event_once")
        ]
        indexes = [models.Index(fields=["agency", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.report.report_number} {self.kind}"

    @property
    def facts_key(self) -> str:
        return f"event:{self.pk}"


class Holiday(models.Model):
    """A day the agency does not count as a working day for legal deadlines."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "date"], name="holiday_once")]
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class MetHow(models.TextChoices):
    NOTIFIED = "notified", _("A message was handed to the provider")
    STAFF = "staff", _("Staff told the victim another way")


class Obligation(models.Model):
    """A victim's right to hear of an event by a deadline (the compliance clock)."""

    event = models.ForeignKey(CaseEvent, on_delete=models.CASCADE, related_name="obligations")
    party = models.ForeignKey("intake.Party", on_delete=models.CASCADE, related_name="+")
    deadline_at = models.DateTimeField()
    enhanced = models.BooleanField(default=False, help_text="Enhanced-rights victim.")
    met_at = models.DateTimeField(null=True, blank=True)
    met_how = models.CharField(max_length=10, choices=MetHow.choices, blank=True)
    met_note = models.CharField(max_length=300, blank=True)
    alerted_at = models.DateTimeField(
        null=True, blank=True, help_text="When supervisors were emailed that it is at risk."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "party"], name="obligation_once")]
        indexes = [
            models.Index(
                fields=["deadline_at"], condition=models.Q(met_at=None), name="obligation_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.party.party_id}"


class AccessCode(models.Model):
    """A one-time code sent by text to open someone's case page: kept as a keyed hash,
    good for a few minutes and a few tries."""

    party = models.ForeignKey("intake.Party", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for party {self.party_id}"
