"""Calls for service as the dispatch system (CAD) reports them, and what the caller is told."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Call(models.Model):
    """One call for service, as the latest snapshot from CAD left it. Times are only ever
    filled in, never emptied: a snapshot that lacks one says nothing about it."""

    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="calls")
    call_number = models.CharField(
        max_length=40, help_text="The CAD incident number the caller is given."
    )
    priority = models.CharField(max_length=8, blank=True)
    nature = models.CharField(
        max_length=100, blank=True, help_text="The call type; never put in a message."
    )
    received_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    report_number = models.CharField(
        max_length=40, blank=True, help_text="The RMS report taken, if any."
    )
    caller_phone = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    caller_phone_invalid = models.BooleanField(
        default=False, help_text="CAD gave a phone we cannot text (not a number, a landline)."
    )
    caller_language = models.CharField(max_length=8, blank=True)
    do_not_text = models.BooleanField(
        default=False, help_text="CAD flagged the caller as not to be contacted."
    )
    texts_withheld = models.CharField(
        max_length=40, blank=True, help_text="Why the caller is not texted, when not."
    )
    texts_queued = models.JSONField(
        default=list, blank=True, help_text="The kinds of text already queued: each goes once."
    )
    cad_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="When CAD last changed it (older snapshots are ignored)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "call_number"], name="call_number_once")
        ]
        indexes = [models.Index(fields=["agency", "-received_at"])]

    def __str__(self) -> str:
        return self.call_number

    @property
    def answered(self) -> bool:
        """A unit is on its way, there, or the call is over."""
        return bool(self.dispatched_at or self.on_scene_at or self.closed_at)


class Withheld(models.TextChoices):
    DISABLED = "texts_off", _("The agency does not text callers")
    NO_PHONE = "no_phone", _("No caller phone")
    INVALID_PHONE = "invalid_phone", _("The caller's phone is not a mobile number we can text")
    DO_NOT_TEXT = "do_not_text", _("CAD flagged the caller as not to be contacted")
    EXCLUDED_NATURE = "excluded_nature", _("A call type the agency never texts about")
