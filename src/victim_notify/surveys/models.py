"""Experiments (who is in Group A and who in Group B, and why), their survey questions, and
the answers people gave.

A participant is a person, known by their normalised contact, not a report or a party row:
a repeat victim stays in the group they were first put in."""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from victim_notify.privacy.fields import EncryptedTextField


def _new_seed() -> str:
    return secrets.token_hex(16)


def _new_web_key() -> str:
    return secrets.token_urlsafe(12)


def _default_kinds() -> list[str]:
    return ["report_filed"]


def _default_strata() -> list[str]:
    return ["division", "offense_group"]


class Experiment(models.Model):
    """A randomized comparison: Group A gets the experimental messages, Group B the agency's
    usual practice; both get the same survey under the same conditions."""

    agency = models.ForeignKey(
        "agencies.Agency", on_delete=models.CASCADE, related_name="experiments"
    )
    slug = models.SlugField(help_text="Short name used on the command line, e.g. 2026-rollout.")
    name = models.CharField(max_length=200)
    starts_on = models.DateField(help_text="Reports from this day (agency time) are enrolled.")
    ends_on = models.DateField(null=True, blank=True, help_text="Last day enrolled; empty: open.")
    share_notified = models.PositiveSmallIntegerField(
        default=90, help_text="Percent of people put in Group A (notified)."
    )
    unit = models.CharField(
        max_length=16,
        choices=[("victim", "Victim (one person, known by their phone or email)")],
        default="victim",
    )
    stratify_by = models.JSONField(
        default=_default_strata,
        blank=True,
        help_text='Recorded with each assignment and balanced in the report: "division", '
        '"offense_group".',
    )
    experimental_kinds = models.JSONField(
        default=_default_kinds,
        help_text="Message kinds withheld from Group B. A notice the law requires never is.",
    )
    survey_enabled = models.BooleanField(default=True)
    survey_delay_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days after the report that the survey is sent."
    )
    survey_delay_minutes = models.PositiveIntegerField(
        default=0, help_text="Added to the delay in days; for demonstrations and pilots."
    )
    survey_window_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days a question waits for an answer before the survey closes."
    )
    seed = models.CharField(
        max_length=64,
        default=_new_seed,
        editable=False,
        help_text="Secret that makes assignment random and reproducible.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "slug"], name="experiment_slug_once")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not 1 <= self.share_notified <= 99:
            errors["share_notified"] = "Both groups need people: choose 1 to 99 percent."
        if self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = "The experiment cannot end before it starts."
        unknown = set(self.stratify_by or []) - {"division", "offense_group"}
        if unknown:
            errors["stratify_by"] = f"Unknown strata: {', '.join(sorted(unknown))}."
        from victim_notify.messages.models import EXPERIMENTAL_KINDS

        not_allowed = set(self.experimental_kinds or []) - EXPERIMENTAL_KINDS
        if not_allowed:
            errors["experimental_kinds"] = (
                f"{', '.join(sorted(not_allowed))} cannot be withheld: answers to what people "
                "write and notices the law requires go to everyone."
            )
        if self.agency_id and self.starts_on:
            overlapping = Experiment.objects.filter(agency_id=self.agency_id).exclude(pk=self.pk)
            for other in overlapping:
                if (self.ends_on is None or other.starts_on <= self.ends_on) and (
                    other.ends_on is None or self.starts_on <= other.ends_on
                ):
                    errors["starts_on"] = f"Overlaps the experiment '{other.name}'."
                    break
        if errors:
            raise ValidationError(errors)

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    @property
    def survey_delay(self) -> dt.timedelta:
        return dt.timedelta(days=self.survey_delay_days, minutes=self.survey_delay_minutes)


class QuestionKind(models.TextChoices):
    CHOICE = "choice", _("One of a list")
    SCALE = "scale", _("1 to 5")
    YES_NO = "yes_no", _("Yes or no")


class Question(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    key = models.SlugField(
        max_length=40, help_text="preferred_channel, service_rating, trust, likely_to_call, …"
    )
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    also_yes_no = models.BooleanField(
        default=False, help_text="A 1-to-5 question that also takes YES or NO."
    )
    options = models.JSONField(
        default=list, blank=True, help_text="For a list: the option keys, in the order asked."
    )
    texts = models.JSONField(help_text="The question by language, as the text message asks it.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="question_key_once"),
            models.UniqueConstraint(fields=["experiment", "position"], name="question_slot_once"),
        ]

    def __str__(self) -> str:
        return self.key

    def text(self, language: str) -> str:
        return self.texts.get(language) or self.texts.get("en") or next(iter(self.texts.values()))

    def web_text(self, language: str) -> str:
        """The question without the texting instructions ("Reply 1 for…"): on the web form
        the answers are buttons."""
        text = self.text(language)
        cut = min(
            (i for i in (text.find(" Reply "), text.find(" Responda ")) if i > 0),
            default=len(text),
        )
        return text[:cut]


class Group(models.TextChoices):
    A = "A", _("Group A (notified)")
    B = "B", _("Group B (usual practice)")


class Assignment(models.TextChoices):
    RANDOM = "random", _("Randomized")
    ROLLOUT = "rollout", _("Division not live yet (not randomized)")
    IMPORTED = "imported", _("Imported with its group")


class SurveyStatus(models.TextChoices):
    WAITING = "waiting", _("Survey not due yet")
    ASKED = "asked", _("Survey under way")
    COMPLETED = "completed", _("Answered every question")
    PARTIAL = "partial", _("Answered some questions")
    NO_RESPONSE = "no_response", _("Did not answer")
    STOPPED = "stopped", _("Opted out")
    UNREACHABLE = "unreachable", _("Could not be surveyed")
    OFF = "off", _("Not surveyed")


class Participant(models.Model):
    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="participants"
    )
    person_key = models.CharField(
        max_length=254,
        help_text="The blind index of the normalised phone or email, or an imported id.",
    )
    phone = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group = models.CharField(max_length=1, choices=Group.choices)
    assignment = models.CharField(max_length=10, choices=Assignment.choices)
    assigned_at = models.DateTimeField()
    stratum = models.CharField(max_length=120, blank=True)
    division_code = models.CharField(max_length=20, blank=True)
    offense_group = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=8, blank=True)
    report = models.ForeignKey(
        "intake.Report",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The report that enrolled them.",
    )
    party = models.ForeignKey(
        "intake.Party", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    opened_imported = models.CharField(
        max_length=7, blank=True, help_text="For imported rows: yes, no or empty (unknown)."
    )

    web_key = models.CharField(
        max_length=24,
        unique=True,
        default=_new_web_key,
        editable=False,
        help_text="Names their web survey form; unguessable.",
    )
    survey_status = models.CharField(
        max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.WAITING
    )
    survey_status_reason = models.CharField(max_length=200, blank=True)
    survey_due_at = models.DateTimeField(null=True, blank=True)
    survey_channel = models.CharField(max_length=8, blank=True)
    survey_contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    current_question = models.PositiveSmallIntegerField(default=0)
    reasked = models.BooleanField(default=False)
    asked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "person_key"], name="one_assignment_per_person"
            )
        ]
        indexes = [
            models.Index(
                fields=["survey_due_at"],
                condition=models.Q(survey_status="waiting"),
                name="participant_survey_due",
            ),
            models.Index(fields=["survey_contact", "survey_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.experiment.slug}: {self.group} ({self.assignment})"


class Response(models.Model):
    """One answer as given. Unreadable ones are kept with an empty value."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="responses")
    question_key = models.CharField(max_length=40)
    raw = EncryptedTextField(blank=True)
    value = models.CharField(max_length=40, blank=True, help_text="Empty: could not be read.")
    source = models.CharField(
        max_length=8,
        choices=[("sms", "Text"), ("email", "Email"), ("web", "Web form"), ("import", "Imported")],
    )
    inbound = models.ForeignKey(
        "replies.InboundMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_responses",
    )
    received_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "question_key"],
                condition=~models.Q(value=""),
                name="one_answer_per_question",
            )
        ]
        indexes = [models.Index(fields=["participant", "question_key"])]

    def __str__(self) -> str:
        return f"{self.question_key}={self.value or '?'}"
