"""The record of every decision to send or not to send, with its reasons."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


class Decision(models.Model):
    """For one party on one version of a report: send on this channel or not, and why.

    `channel` is empty when the party as a whole may not be contacted (a safety exclusion,
    a suspect, a minor): no channel was ever considered.
    """

    # Both served by the composite indexes below.
    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    report = models.ForeignKey(
        "intake.Report", on_delete=models.CASCADE, related_name="decisions", db_index=False
    )
    report_version = models.PositiveIntegerField()
    party = models.ForeignKey("intake.Party", on_delete=models.CASCADE, related_name="decisions")
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    send = models.BooleanField()
    reason_codes = models.JSONField()
    reason_params = models.JSONField(
        default=list,
        blank=True,
        help_text="Each reason's parameters (a status, an offense...), in reason_codes' order; "
        "empty for decisions made before they were kept.",
    )
    sentence = models.TextField(help_text="In English, as decided.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["agency", "created_at"]),
            models.Index(fields=["report", "report_version"]),
        ]

    def __str__(self) -> str:
        verdict = "send" if self.send else "do not send"
        return f"{verdict} {self.channel or '-'}: {', '.join(self.reason_codes)}"
