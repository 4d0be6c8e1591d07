"""What people send back: texts and emails, each linked to the report it most likely answers,
with what we made of it and who on the agency's staff dealt with it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from victim_notify.privacy.fields import EncryptedTextField
from victim_notify.replies.matchers import URGENCY_LABELS


class Intent(models.TextChoices):
    OPT_OUT = "opt_out", _("Opt-out")
    OPT_IN = "opt_in", _("Opt-in")
    HELP = "help", _("Help")
    SURVEY_ANSWER = "survey", _("Survey answer")
    MESSAGE = "message", _("Message")


class InboundMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(
        "agencies.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    channel = models.CharField(max_length=8)  # sms or email
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="replies"
    )
    to_address = models.CharField(max_length=320, help_text="Our number or address it came to.")
    body = EncryptedTextField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    provider = models.CharField(max_length=32)
    provider_message_id = models.CharField(max_length=200)

    # The report it most likely answers: the latest message to that contact from the agency.
    in_answer_to = models.ForeignKey(
        "outbox.Notification",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    report = models.ForeignKey(
        "intake.Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    party = models.ForeignKey(
        "intake.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    language = models.CharField(max_length=8, blank=True)

    intent = models.CharField(max_length=12, choices=Intent.choices)
    urgent = models.BooleanField(default=False)
    urgent_terms = models.JSONField(default=list, blank=True, help_text="What made it urgent.")
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by_name = models.CharField(
        max_length=150,
        blank=True,
        help_text="Who, as a name: a staff user, or what an API client said.",
    )
    handled_note = EncryptedTextField(blank=True)

    class Meta:
        constraints = [
            # A provider retrying its webhook must not make a second reply.
            models.UniqueConstraint(fields=["provider", "provider_message_id"], name="reply_once")
        ]
        indexes = [
            models.Index(fields=["agency", "urgent", "handled_at", "-received_at"]),
            models.Index(fields=["contact", "-received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} reply {self.intent}{' URGENT' if self.urgent else ''}"

    @property
    def urgent_reasons(self) -> str:
        """Why it was flagged, in words staff read (an agency's own rule shows its name)."""
        return ", ".join(str(URGENCY_LABELS.get(term, term)) for term in self.urgent_terms)
