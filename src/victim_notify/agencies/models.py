"""An agency and everything about it that staff configure: divisions, offense codes with what
they mean for a victim, investigative sections, languages, quiet hours and timing."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from victim_notify.cases.models import EventKind


class SensitiveCategory(models.TextChoices):
    """Kinds of case where a text or email could put a victim at risk or cause harm."""

    DOMESTIC_VIOLENCE = "domestic_violence", _("Domestic violence")
    SEXUAL_OFFENSE = "sexual_offense", _("Sexual offense")
    CHILD_ABUSE = "child_abuse", _("Child abuse")
    DEATH = "death", _("Homicide or death investigation")
    SUICIDE = "suicide", _("Suicide")
    HUMAN_TRAFFICKING = "human_trafficking", _("Human trafficking")
    STALKING = "stalking", _("Stalking")


DEFAULT_EXCLUDED_CATEGORIES = [choice.value for choice in SensitiveCategory]


def _default_excluded() -> list[str]:
    return list(DEFAULT_EXCLUDED_CATEGORIES)


# NIBRS victim-to-offender relationships that make a case domestic violence: spouses and
# former spouses, dating partners and former ones, their children, and family.
DEFAULT_DV_RELATIONSHIPS = [
    "SE",
    "CS",
    "XS",
    "BG",
    "XR",
    "CF",
    "PA",
    "CH",
    "SB",
    "GP",
    "GC",
    "IL",
    "SC",
    "SP",
    "SS",
    "OF",
]


def _default_dv_relationships() -> list[str]:
    return list(DEFAULT_DV_RELATIONSHIPS)


CASE_EVENT_KINDS = tuple(EventKind.values)


# The events a report status can mean: not a detective assigned (it needs the detective, named
# in the report's own field) nor a court date (it needs the date, sent to the events API).
STATUS_EVENT_KINDS = tuple(
    k for k in CASE_EVENT_KINDS if k not in {"detective_assigned", "initial_appearance"}
)


def _default_case_update_kinds() -> list[str]:
    return list(CASE_EVENT_KINDS)


def _default_notice_deadlines() -> dict[str, list[int]]:
    return {kind: [5, 1] for kind in CASE_EVENT_KINDS}


def _default_call_waits() -> dict[str, int]:
    return {"3": 30, "4": 45, "5": 60}


def _default_quiet_natures() -> list[str]:
    return [
        "DV",
        "DOMESTIC",
        "FAMILY",
        "SEXUAL",
        "RAPE",
        "CHILD",
        "ABUSE",
        "STALKING",
        "TRAFFICKING",
        "WELFARE",
        "SUICIDE",
        "DEATH",
    ]


def _default_approved_statuses() -> list[str]:
    return ["approved"]


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a known time zone (e.g. America/Phoenix)."
        ) from None


def validate_language(value: str) -> None:
    known = dict(settings.LANGUAGES)
    if value not in known:
        raise ValidationError(f"{value!r} is not a supported language ({', '.join(known)}).")


class Agency(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200, help_text="Full name, e.g. Tucson Police Department.")
    short_name = models.CharField(
        max_length=40,
        help_text="Opens every text so the victim knows who writes, e.g. 'Tucson Police'.",
    )
    timezone = models.CharField(
        max_length=64, default="America/Phoenix", validators=[validate_timezone]
    )
    phone_region = models.CharField(
        max_length=2,
        default="US",
        help_text="Region assumed for phone numbers written without a country code.",
    )
    default_language = models.CharField(max_length=8, default="en", validators=[validate_language])

    # Fixed sender identity: victims learn to trust exactly these.
    sender_name = models.CharField(max_length=200)
    sender_email = models.EmailField()
    reply_to = models.EmailField(
        blank=True, help_text="Where replies to emails go; feed it to `victim-notify mailbox`."
    )
    main_phone = models.CharField(
        max_length=20, blank=True, help_text="Non-emergency line (E.164) named in help texts."
    )
    on_duty_email = models.EmailField(
        blank=True, help_text="Urgent replies (threats, self-harm, 'help') are sent here at once."
    )
    sms_from = models.CharField(
        max_length=20, help_text="Sending number in E.164, e.g. +15205550100."
    )
    public_base_url = models.URLField(
        help_text="The agency's own site for details links, e.g. https://notify.tucsonaz.gov."
    )
    brand_color = models.CharField(
        max_length=7,
        default="#1d3557",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #1d3557.")],
        help_text="Goes into the email's style sheet, so only #rrggbb is accepted.",
    )

    # Timing.
    approved_statuses = models.JSONField(
        default=_default_approved_statuses, help_text="RMS report statuses that allow notifying."
    )
    post_approval_delay_minutes = models.PositiveIntegerField(
        default=30, help_text="Reports are often returned or reclassified soon after approval."
    )
    quiet_hours_start = models.TimeField(null=True, blank=True, default=dt.time(21, 0))
    quiet_hours_end = models.TimeField(null=True, blank=True, default=dt.time(8, 0))
    max_message_age_hours = models.PositiveIntegerField(
        default=72, help_text="A notice older than this (quiet-hours waits excluded) is not sent."
    )
    details_link_days = models.PositiveIntegerField(default=90)

    # What is sent and to whom.
    sms_enabled = models.BooleanField(default=True)
    email_enabled = models.BooleanField(default=True)
    email_only_without_text = models.BooleanField(
        default=False,
        help_text="Email only people who get no text, and anyone whose text fails for good.",
    )
    sms_segment_cap = models.PositiveSmallIntegerField(
        default=6, help_text="Longer texts are shortened and link to the details page."
    )
    excluded_categories = models.JSONField(default=_default_excluded)
    dv_relationship_codes = models.JSONField(
        default=_default_dv_relationships,
        help_text="NIBRS victim-to-suspect relationship codes that make a case domestic violence.",
    )
    adult_age = models.PositiveSmallIntegerField(
        default=18, help_text="Younger victims are not written to directly."
    )
    notify_businesses = models.BooleanField(default=False)
    notify_reporting_parties = models.BooleanField(default=True)

    # Case-status updates after the report, and the legal deadlines for telling victims.
    case_update_kinds = models.JSONField(
        default=_default_case_update_kinds,
        blank=True,
        help_text="The case events victims are told of (detective_assigned, suspect_arrested...).",
    )
    notice_deadlines = models.JSONField(
        default=_default_notice_deadlines,
        blank=True,
        help_text="Event → [working days, working days for enhanced-rights victims], e.g. "
        '{"suspect_arrested": [5, 1]}. An event not listed has no legal deadline.',
    )
    enhanced_rights_categories = models.JSONField(
        default=_default_excluded,
        blank=True,
        help_text="Kinds of case whose victims have enhanced rights (shorter deadlines).",
    )
    case_event_statuses = models.JSONField(
        default=dict,
        blank=True,
        help_text="RMS report status → the case event it tells of, e.g. "
        '{"cleared by arrest": "suspect_arrested", "inactive": "case_suspended"}. A new '
        "version of an approved report whose status changes to one of these is that event.",
    )
    deadline_warning_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Supervisors are emailed this long before a deadline is missed."
    )
    still_open_days = models.PositiveSmallIntegerField(
        default=0,
        help_text="Tell victims their case is still open after this many days without news "
        "(0: never).",
    )

    # Callers: texts about their call for service, from the dispatch system (CAD).
    call_texts_enabled = models.BooleanField(
        default=False, help_text="Text callers while their call waits, and when it closes."
    )
    call_wait_minutes = models.JSONField(
        default=_default_call_waits,
        blank=True,
        help_text="Priority → minutes without a unit sent after which the caller is told the "
        'wait will be long, e.g. {"3": 30, "4": 45}. A priority not listed gets no such text.',
    )
    call_natures_not_texted = models.JSONField(
        default=_default_quiet_natures,
        blank=True,
        help_text="Words in a call type that mean the caller is never texted (the phone may "
        "be the suspect's), matched as whole words in any case.",
    )

    # Watching the feeds: a silently stopped RMS export is the most common real failure.
    intake_quiet_day_hours = models.PositiveSmallIntegerField(
        default=4,
        help_text="Email the administrators when a source has sent nothing for this long between "
        "07:00 and 21:00 (longer if its usual gaps are longer); 0 turns the alarm off.",
    )
    intake_quiet_night_hours = models.PositiveSmallIntegerField(
        default=10, help_text="The same, between 21:00 and 07:00."
    )

    # Retention, following the agency's records schedule (docs/privacy.md): personal data is
    # purged this many days after the last activity; counts and survey answers are kept.
    retain_reports_days = models.PositiveIntegerField(
        default=365, help_text="After a report's last activity (a version, a message, a reply)."
    )
    retain_quarantine_days = models.PositiveIntegerField(
        default=365, help_text="After a record that could not be accepted arrived."
    )
    retain_replies_days = models.PositiveIntegerField(
        default=365, help_text="After a reply that matched no report arrived."
    )
    retain_outbox_days = models.PositiveIntegerField(
        default=365, help_text="Development outbox copies of what was sent."
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def clean(self) -> None:
        unknown = set(self.excluded_categories or []) - set(SensitiveCategory.values)
        if unknown:
            raise ValidationError(
                {"excluded_categories": f"Unknown categories: {', '.join(sorted(unknown))}"}
            )
        if not isinstance(self.approved_statuses, list) or not all(
            isinstance(s, str) and s for s in self.approved_statuses
        ):
            raise ValidationError(
                {"approved_statuses": 'A list of status names, e.g. ["approved"].'}
            )
        self._clean_case_settings()
        if not isinstance(self.call_wait_minutes, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and 0 <= v <= 24 * 60
            for k, v in self.call_wait_minutes.items()
        ):
            raise ValidationError(
                {"call_wait_minutes": 'Priority → minutes (0 to 1440), e.g. {"3": 30}.'}
            )
        if not isinstance(self.call_natures_not_texted, list) or not all(
            isinstance(w, str) and w.strip() for w in self.call_natures_not_texted
        ):
            raise ValidationError({"call_natures_not_texted": 'A list of words, e.g. ["DV"].'})
        if (self.quiet_hours_start is None) != (self.quiet_hours_end is None):
            raise ValidationError("Quiet hours need both a start and an end, or neither.")
        if not self.public_base_url.startswith("https://") and not settings.DEBUG:
            # Plain http is allowed for local demos only.
            if not self.public_base_url.startswith("http://localhost"):
                raise ValidationError({"public_base_url": "Details links must use https."})

    def _clean_case_settings(self) -> None:
        kinds = set(CASE_EVENT_KINDS)
        if not isinstance(self.case_update_kinds, list) or not set(self.case_update_kinds) <= kinds:
            known = ", ".join(CASE_EVENT_KINDS)
            raise ValidationError({"case_update_kinds": f"A list of case events among: {known}."})
        deadlines = self.notice_deadlines
        if not isinstance(deadlines, dict) or not all(
            kind in kinds
            and isinstance(days, list)
            and 1 <= len(days) <= 2
            and all(isinstance(d, int) and 1 <= d <= 60 for d in days)
            for kind, days in deadlines.items()
        ):
            raise ValidationError(
                {
                    "notice_deadlines": "Case event → [working days, working days for "
                    'enhanced-rights victims] (1 to 60), e.g. {"suspect_arrested": [5, 1]}.'
                }
            )
        statuses = self.case_event_statuses
        if not isinstance(statuses, dict) or not all(
            isinstance(status, str) and status.strip() and kind in STATUS_EVENT_KINDS
            for status, kind in statuses.items()
        ):
            raise ValidationError(
                {
                    "case_event_statuses": "RMS status → case event, e.g. "
                    '{"cleared by arrest": "suspect_arrested"}, among: '
                    + ", ".join(STATUS_EVENT_KINDS)
                    + "."
                }
            )
        # Statuses arrive lower-cased (intake compares them so).
        self.case_event_statuses = {s.strip().lower(): k for s, k in statuses.items()}
        unknown = set(self.enhanced_rights_categories or []) - set(SensitiveCategory.values)
        if unknown:
            raise ValidationError(
                {"enhanced_rights_categories": f"Unknown categories: {', '.join(sorted(unknown))}"}
            )


class AgencyLanguage(models.Model):
    """A language the agency writes to victims in, with its agency-specific wording."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(max_length=8, validators=[validate_language])
    statutory_notice = models.TextField(
        blank=True,
        help_text="Optional paragraph the law requires, shown in emails and on the details page.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "language"], name="agency_language_once")
        ]

    def __str__(self) -> str:
        return f"{self.agency.slug}: {self.language}"


class Division(models.Model):
    """A patrol division. Divisions go live one by one (the case study's phased rollout)."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="divisions")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    substation_name = models.CharField(max_length=100)
    substation_phone = models.CharField(max_length=20, help_text="E.164, e.g. +15205550101.")
    go_live_date = models.DateField(
        null=True,
        blank=True,
        help_text="Reports before this date are not notified; empty means not live.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="division_code_once")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InvestigativeSection(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="sections")
    code = models.CharField(max_length=20)
    name = models.CharField(max_length=100)
    phone = models.CharField(max_length=20, help_text="E.164.")
    hours = models.CharField(max_length=100, blank=True, help_text="e.g. Mon–Fri 8 a.m.–5 p.m.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="section_code_once")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OffenseGroup(models.TextChoices):
    PERSON = "person", _("Crime against a person")
    PROPERTY = "property", _("Property crime")
    SOCIETY = "society", _("Crime against society")
    TRAFFIC = "traffic", _("Traffic")
    OTHER = "other", _("Other")


class OffenseCode(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="offense_codes")
    code = models.CharField(max_length=20, help_text="As the RMS sends it, e.g. 23F or 13B.")
    title = models.CharField(max_length=120)
    sensitive_category = models.CharField(
        max_length=32,
        choices=SensitiveCategory.choices,
        blank=True,
        help_text="Set for offenses whose victims may be endangered by a message.",
    )
    section = models.ForeignKey(
        InvestigativeSection, on_delete=models.PROTECT, related_name="offenses"
    )
    group = models.CharField(
        max_length=20,
        choices=OffenseGroup.choices,
        blank=True,
        help_text="For comparing results by kind of crime (NIBRS 'crime against').",
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="offense_code_once")]
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class OffenseText(models.Model):
    """What an offense means for the victim and what happens next, in one language."""

    offense = models.ForeignKey(OffenseCode, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=8, validators=[validate_language])
    title = models.CharField(max_length=120)
    explanation = models.TextField()
    explanation_short = models.CharField(max_length=160, help_text="For texts.")
    next_steps = models.TextField()
    next_steps_short = models.CharField(max_length=200, help_text="For texts.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offense", "language"], name="offense_text_once")
        ]

    def __str__(self) -> str:
        return f"{self.offense.code} ({self.language})"


class ApiToken(models.Model):
    """A credential an agency's RMS uses to push reports. Only a hash is kept."""

    PREFIX = "vn"

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.agency.slug}: {self.name} ({self.key_id})"

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, agency: Agency, name: str) -> tuple[ApiToken, str]:
        """Create a token and return it with the only copy of its plain value."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            agency=agency, name=name, key_id=key_id, secret_hash=cls.digest(secret)
        )
        return token, f"{cls.PREFIX}_{key_id}_{secret}"

    @classmethod
    def authenticate(cls, presented: str) -> ApiToken | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != cls.PREFIX:
            return None
        token = (
            cls.objects.select_related("agency").filter(key_id=parts[1], revoked_at=None).first()
        )
        if token is None or not secrets.compare_digest(token.secret_hash, cls.digest(parts[2])):
            return None
        return token
