"""Staff accounts (one agency, one role each) and the audit trail: who did what to which record,
and when. The trail never holds personal data, so purging a victim's details leaves it whole."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENCY_ADMIN = "agency_admin", _("Agency administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADVOCATE = "advocate", _("Victim advocate")
    CLERK = "clerk", _("Records clerk")
    ANALYST = "analyst", _("Analyst")
    AUDITOR = "auditor", _("Auditor")


class StaffMember(models.Model):
    """What makes a Django user a member of an agency's staff. A user without one (an
    installation's superuser) has no agency and sees no agency's pages."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    agency = models.ForeignKey("agencies.Agency", on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    disabled_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text="Why the account was switched off (locked out, unused for 90 days, by an admin).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_role_display()}, {self.agency.slug})"


class AuditEvent(models.Model):
    """Append-only and chained: each entry's hash covers its content and the previous entry's
    hash, so an edited or deleted entry breaks the chain (`victim-notify audit verify`)."""

    at = models.DateTimeField(db_index=True)
    agency = models.ForeignKey("agencies.Agency", null=True, blank=True, on_delete=models.SET_NULL)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(
        max_length=100, help_text="User name, 'command', or 'api:<token id>'."
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True, help_text="Ids and counts only.")
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["agency", "-at"])]

    def __str__(self) -> str:
        target = f"{self.object_type}#{self.object_id}"
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {target}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("the audit trail is append-only")


class AuditChainHead(models.Model):
    """One row: the hash of the newest entry. Writers lock it, so the chain has one order."""

    last_hash = models.CharField(max_length=64, blank=True)
    last_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit chain head at #{self.last_id}"
