"""Message templates and the outbox: one Notification row per message we intend to send.

A notification is written in the same transaction as the decision that wants it, with its
content rendered and frozen, so what the victim receives is exactly what the record shows.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from victim_notify.privacy.fields import EncryptedTextField, MaskedCharField
from victim_notify.rules.models import Channel


class MessageKind(models.TextChoices):
    REPORT_FILED = "report_filed", _("Report filed (the 8 key facts)")
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", _("Opt-out confirmed")
    OPT_IN_CONFIRMATION = "opt_in_confirmation", _("Opt-in confirmed")
    HELP = "help", _("Help")
    AUTO_REPLY = "auto_reply", _("Answer to a reply")
    URGENT_ANSWER = "urgent_answer", _("Answer to an urgent reply")
    STAFF_ALERT = "staff_alert", _("Urgent reply passed to the on-duty staff")
    RIGHTS_NOTICE = "rights_notice", _("Victims' rights notice (required by law; Group B)")
    SURVEY_QUESTION = "survey_question", _("Survey question")
    SURVEY_INVITATION = "survey_invitation", _("Survey invitation (email, with the web form)")
    SURVEY_THANKS = "survey_thanks", _("Thanks for answering the survey")
    DETECTIVE_ASSIGNED = "detective_assigned", _("Case: detective assigned")
    SUSPECT_ARRESTED = "suspect_arrested", _("Case: suspect arrested")
    WARRANT_ISSUED = "warrant_issued", _("Case: warrant issued")
    REFERRED_TO_PROSECUTOR = "referred_to_prosecutor", _("Case: referred to the prosecutor")
    INITIAL_APPEARANCE = "initial_appearance", _("Case: initial appearance set")
    CASE_SUSPENDED = "case_suspended", _("Case: suspended")
    CASE_CLOSED = "case_closed", _("Case: closed")
    PROPERTY_RECOVERED = "property_recovered", _("Case: property recovered")
    STILL_OPEN = "still_open", _("Case: still open")
    ACCESS_CODE = "access_code", _("One-time code for the case page")
    CALL_RECEIVED = "call_received", _("Caller: the call is waiting (CAD)")
    CALL_CLOSED = "call_closed", _("Caller: the call is closed (CAD)")


# Answers to something a person just sent us: they go at once, quiet hours or not.
REPLY_KINDS = frozenset(
    {
        MessageKind.OPT_OUT_CONFIRMATION,
        MessageKind.OPT_IN_CONFIRMATION,
        MessageKind.HELP,
        MessageKind.AUTO_REPLY,
        MessageKind.URGENT_ANSWER,
        MessageKind.ACCESS_CODE,
    }
)


# What an experiment may withhold from Group B. Answers to what people write, the notices the
# law requires and the survey itself go to everyone.
EXPERIMENTAL_KINDS = frozenset({MessageKind.REPORT_FILED})
# What happens to a case after the report: each told to the victims its rules allow.
CASE_KINDS = frozenset(
    {
        MessageKind.DETECTIVE_ASSIGNED,
        MessageKind.SUSPECT_ARRESTED,
        MessageKind.WARRANT_ISSUED,
        MessageKind.REFERRED_TO_PROSECUTOR,
        MessageKind.INITIAL_APPEARANCE,
        MessageKind.CASE_SUSPENDED,
        MessageKind.CASE_CLOSED,
        MessageKind.PROPERTY_RECOVERED,
        MessageKind.STILL_OPEN,
    }
)
# A report's first message to a person: Group A's notice, or Group B's rights notice. A case
# message never goes ahead of one still waiting.
FIRST_NOTICE_KINDS = frozenset({MessageKind.REPORT_FILED, MessageKind.RIGHTS_NOTICE})
AFTER_FIRST_NOTICE = dt.timedelta(minutes=1)
# Texts to a caller about their call for service, keyed to the call, not to a report.
CALL_KINDS = frozenset({MessageKind.CALL_RECEIVED, MessageKind.CALL_CLOSED})
SURVEY_KINDS = frozenset(
    {MessageKind.SURVEY_QUESTION, MessageKind.SURVEY_INVITATION, MessageKind.SURVEY_THANKS}
)


class MessageTemplate(models.Model):
    """The wording of one kind of message on one channel in one language, editable by staff.

    Templates are Jinja, rendered in a sandbox with nothing but plain strings in reach.
    Each save bumps `version`, and a frozen copy goes to TemplateRevision, which every
    notification points at.
    """

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="templates"
    )
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=300, blank=True, help_text="Email only.")
    text = models.TextField(help_text="The text message, or the plain-text part of the email.")
    compact_text = models.TextField(
        blank=True,
        help_text="Texts only: the short form with a details link, used past the segment cap.",
    )
    html = models.TextField(
        blank=True, help_text="Email only: the HTML body inside the agency's layout."
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "kind", "channel", "language"], name="template_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.language} v{self.version}"

    def save(self, *args: object, **kwargs: object) -> None:
        """Saving changed wording makes a new version; messages already queued keep theirs."""
        content = {
            "subject": self.subject,
            "text": self.text,
            "compact_text": self.compact_text,
            "html": self.html,
        }
        with transaction.atomic():
            if self.pk is not None:
                previous = MessageTemplate.objects.select_for_update().get(pk=self.pk)
                changed = any(getattr(previous, k) != v for k, v in content.items())
                self.version = previous.version + 1 if changed else previous.version
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            TemplateRevision.objects.get_or_create(
                template=self, version=self.version, defaults=content
            )

    def clean(self) -> None:
        from victim_notify.messages.templating import validate_template

        validate_template(self)

    def current_revision(self) -> TemplateRevision:
        return self.revisions.get(version=self.version)


class TemplateRevision(models.Model):
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.CASCADE, related_name="revisions"
    )
    version = models.PositiveIntegerField()
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    compact_text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="revision_once")
        ]

    def __str__(self) -> str:
        return f"{self.template} r{self.version}"


# The reason code of a pending message a member of staff is holding (staff.report_actions).
STAFF_HOLD = "staff_hold"


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED_PERMANENT = "failed_permanent", _("Failed (permanent)")
    FAILED_TEMPORARY = "failed_temporary", _("Failed (retries exhausted)")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")


FINAL_STATUSES = frozenset(
    {
        Status.DELIVERED,
        Status.FAILED_PERMANENT,
        Status.FAILED_TEMPORARY,
        Status.EXPIRED,
        Status.CANCELLED,
        Status.OUTCOME_UNKNOWN,
    }
)


class Notification(models.Model):
    # Every index here is written on every claim and every result (a status change is never
    # a HOT update), so the table keeps only those a query needs: no index a composite one
    # already covers, none for the rare rows (answers to replies) over the whole table.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(
        "agencies.Agency",
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # (agency, -created_at) serves it
    )
    # Empty for answers to replies that concern no report (a HELP from an unknown number).
    report = models.ForeignKey(
        "intake.Report",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    party = models.ForeignKey(
        "intake.Party",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    decision = models.OneToOneField(
        "rules.Decision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notification",
    )
    in_reply_to = models.ForeignKey(
        "replies.InboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        db_index=False,  # a partial index below, over the answers only
    )
    contact = models.ForeignKey(
        "contacts.Contact", on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8)
    facts_key = models.CharField(
        max_length=64,
        help_text="Hash of the facts told; the same facts never go to a contact twice.",
    )
    is_update = models.BooleanField(default=False, help_text="Corrects facts sent earlier.")

    template = models.ForeignKey(
        TemplateRevision,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for staff alerts, whose wording is not the agency's to edit.",
        db_index=False,  # revisions are kept, never deleted: nothing looks messages up by one
    )
    # Encrypted: the wording greets the person by name.
    subject = EncryptedTextField(blank=True)
    body = EncryptedTextField(
        help_text="The text as the phone shows it, or the email's plain-text part."
    )
    html = EncryptedTextField(blank=True)
    has_details_link = models.BooleanField(
        default=False, help_text="The message links to its details page (counted for clicks)."
    )
    segments = models.PositiveSmallIntegerField(default=0)
    encoding = models.CharField(max_length=8, blank=True)
    details_key = models.CharField(
        max_length=24, help_text="Names the details page; not secret alone."
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    status_reason_codes = models.JSONField(default=list, blank=True)
    due_at = models.DateTimeField(
        help_text="When it first became due (after the post-approval delay)."
    )
    not_before = models.DateTimeField(help_text="Next time a worker may pick it up.")
    expires_at = models.DateTimeField(
        help_text="Moved later by quiet-hours waits, which do not count."
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    handed_over_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the current attempt began handing it to the provider.",
    )

    provider = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=100, blank=True)
    provider_status = models.CharField(max_length=40, blank=True)
    provider_error_code = models.CharField(max_length=40, blank=True)
    last_error = MaskedCharField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A cancelled message (held, superseded, opted out) may be decided again later.
            # Answers to replies are not facts about a report and are not limited here.
            models.UniqueConstraint(
                fields=["report", "contact", "channel", "facts_key"],
                condition=~models.Q(status="cancelled") & models.Q(kind="report_filed"),
                name="same_facts_once_per_contact",
            ),
            # A constraint, not unique=True, which would add a second (LIKE) index.
            models.UniqueConstraint(fields=["details_key"], name="details_key_once"),
        ]
        indexes = [
            models.Index(
                fields=["not_before"], condition=models.Q(status="pending"), name="notification_due"
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="sending"),
                name="notification_leased",
            ),
            models.Index(fields=["agency", "-created_at"]),
            models.Index(
                fields=["provider", "provider_message_id"],
                condition=~models.Q(provider_message_id=""),
                name="notification_by_provider_id",
            ),
            models.Index(
                fields=["in_reply_to"],
                condition=models.Q(in_reply_to__isnull=False),
                name="notification_answers",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.kind} for {self.report_id} ({self.status})"


class DeliveryEvent(models.Model):
    """What a provider said about a message after taking it: a status callback, an SMPP
    receipt, a bounce. Kept beside our status, never instead of it."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="delivery_events"
    )
    at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20)  # twilio, smpp, dsn
    # Which hand-over it is about (a retried message has a new one), when the provider says.
    provider_message_id = models.CharField(max_length=100, blank=True, default="")
    provider_status = models.CharField(max_length=40)
    error_code = models.CharField(max_length=40, blank=True)
    detail = MaskedCharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["notification", "at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.provider_status} for {self.notification_id}"


class EngagementKind(models.TextChoices):
    OPEN = "open", _("Email opened")
    CLICK = "click", _("Details link opened")


class Engagement(models.Model):
    """An email opened (the tracking image was fetched) or a details link followed.

    `machine` marks fetches by mail privacy proxies and link scanners, which open everything
    they see: counting them as people would overstate how many victims read their message."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="engagements"
    )
    kind = models.CharField(max_length=8, choices=EngagementKind.choices)
    machine = models.BooleanField()
    agent = models.CharField(max_length=40, blank=True, help_text="The kind of client, no more.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["notification", "kind"])]

    def __str__(self) -> str:
        who = "machine" if self.machine else "person"
        return f"{self.kind} by {who} of {self.notification_id}"
