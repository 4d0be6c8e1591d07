"""Who is in Group A and who in Group B.

The order is fixed: eligibility first, then assignment, then the decision. Only people who pass
every safety rule are assigned; a safety exclusion is never randomized into anything.

Assignment is per person (their normalised phone, else their email), and is a keyed hash of
the person and the experiment's secret seed: random, reproducible by anyone holding the seed,
the same whichever worker or batch sees the person first, and recorded in the same
transaction as the decision it leads to."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass, field

from django.db.models import Q

from victim_notify.agencies.config import AgencyConfig
from victim_notify.intake.models import Party, Report
from victim_notify.privacy.keys import blind_index
from victim_notify.surveys.models import Assignment, Experiment, Group, Participant


def draw(seed: str, person_key: str) -> float:
    """A number in [0, 1) fixed by the seed and the person."""
    digest = hmac.new(seed.encode(), person_key.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def group_for(experiment: Experiment, person_key: str) -> str:
    notified = draw(experiment.seed, person_key) < experiment.share_notified / 100
    return Group.A if notified else Group.B


def stratum(experiment: Experiment, division_code: str, offense_group: str) -> str:
    values = {"division": division_code, "offense_group": offense_group}
    return " ".join(f"{name}={values[name]}" for name in experiment.stratify_by if name in values)


@dataclass
class Enrolment:
    """The agency's experiments and the people already in them, read once per batch; new
    participants are collected here and written with the batch."""

    config: AgencyConfig
    experiments: list[Experiment]
    known: dict[tuple[int, int], Participant] = field(default_factory=dict)  # (exp, contact)
    new: list[Participant] = field(default_factory=list)

    @classmethod
    def load(cls, config: AgencyConfig, contact_ids: set[int]) -> Enrolment:
        experiments = list(Experiment.objects.filter(agency=config.agency))
        enrolment = cls(config, experiments)
        if experiments and contact_ids:
            for participant in Participant.objects.filter(
                Q(phone_id__in=contact_ids) | Q(email_id__in=contact_ids),
                experiment__in=experiments,
            ):
                for contact_id in (participant.phone_id, participant.email_id):
                    if contact_id:
                        enrolment.known[(participant.experiment_id, contact_id)] = participant
        return enrolment

    @classmethod
    def none(cls, config: AgencyConfig) -> Enrolment:
        return cls(config, [])

    def experiment_for(self, report: Report) -> Experiment | None:
        day = report.reported_at.astimezone(self.config.zone).date()
        return next((e for e in self.experiments if e.covers(day)), None)

    def enrol(
        self,
        experiment: Experiment,
        report: Report,
        party: Party,
        contacts: dict[str, tuple[int, str] | None],
        *,
        live: bool,
        now: dt.datetime,
    ) -> Participant | None:
        """The person's participant row, made (and assigned) the first time they are seen.
        `contacts` maps "phone" and "email" to the (id, value) the decision would write to.
        `live` is False for a division that is not live yet: the phased rollout's comparison
        group, which is recorded but not randomized."""
        reachable = [c for c in (contacts.get("phone"), contacts.get("email")) if c]
        if not reachable:
            return None
        for contact_id, _ in reachable:
            found = self.known.get((experiment.pk, contact_id))
            if found is not None:
                self._remember(found, experiment, contacts)
                return found
        # The keyed hash of the contact, not the contact: deterministic per person, and not
        # personal data once the contact's own row is purged.
        person_key = blind_index("contact", reachable[0][1])
        division = self.config.division_by_id[report.division_id].code
        codes = report.offense_codes
        offense = self.config.offenses.get(codes[0]) if codes else None
        offense_group = offense.group if offense else "other"
        phone, email = contacts.get("phone"), contacts.get("email")
        participant = Participant(
            experiment=experiment,
            person_key=person_key,
            phone_id=phone[0] if phone else None,
            email_id=email[0] if email else None,
            group=group_for(experiment, person_key) if live else Group.B,
            assignment=Assignment.RANDOM if live else Assignment.ROLLOUT,
            assigned_at=now,
            stratum=stratum(experiment, division, offense_group),
            division_code=division,
            offense_group=offense_group,
            language=self.config.language_for(party.language),
            report=report,
            party=party,
            reported_at=report.reported_at,
            survey_due_at=report.reported_at + experiment.survey_delay
            if experiment.survey_enabled
            else None,
        )
        if not experiment.survey_enabled:
            participant.survey_status = "off"
        self.new.append(participant)
        self._remember(participant, experiment, contacts)
        return participant

    def _remember(
        self,
        participant: Participant,
        experiment: Experiment,
        contacts: dict[str, tuple[int, str] | None],
    ) -> None:
        for contact in contacts.values():
            if contact:
                self.known.setdefault((experiment.pk, contact[0]), participant)

    def execute(self) -> None:
        """Insert the new participants, in the batch's transaction. Another batch may have
        enrolled the same person a moment ago: the hash gives them the same group, so
        keeping the row that is already there changes nothing."""
        for participant in self.new:
            # The report and party may have been inserted just now, in this transaction.
            participant.report_id = participant.report.pk if participant.report else None
            participant.party_id = participant.party.pk if participant.party else None
        Participant.objects.bulk_create(self.new, ignore_conflicts=True)
