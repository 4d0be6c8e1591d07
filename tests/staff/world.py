"""One agency's worth of every kind of object a staff URL can name, for the tenancy and role
matrices: `objects_of(agency)` → {URL keyword: value}."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from tests.conftest import make_record
from tests.staff.conftest import make_staff
from tests.web.conftest import take_in
from victim_notify.accounts.audit import record
from victim_notify.accounts.models import Role
from victim_notify.agencies.models import Agency
from victim_notify.cases.models import CaseEvent, Obligation
from victim_notify.intake.models import CsvMapping, QuarantinedRecord, Report
from victim_notify.messages.models import MessageTemplate, Notification
from victim_notify.providers.models import ProviderRoute
from victim_notify.replies.inbound import receive
from victim_notify.replies.models import InboundMessage
from victim_notify.surveys.setup import create_experiment


def objects_of(agency: Agency, marker: str) -> dict[str, Any]:
    """Every kind of object, each carrying `marker` where it has a name or number, so a page
    that leaks one to another agency can be caught by looking for the marker."""
    number = f"{marker}-0001"
    take_in(
        agency,
        make_record(
            report_number=number,
            victim={"first_name": marker, "last_name": "Zed", "email": f"{marker}@example.com"},
        ),
        make_record(report_number=f"{marker}-0002", offenses=["23X"]),  # quarantined
    )
    report = Report.objects.get(agency=agency, report_number=number)
    # On legal hold, so the page listing held reports has the marker to leak.
    Report.objects.filter(pk=report.pk).update(legal_hold=True, legal_hold_reason=marker)
    party = report.parties.first()
    notification = Notification.objects.filter(report=report).first()
    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address=str(party.phone.value),
        body=f"{marker} he is back outside my house",
        provider="test",
        provider_message_id=f"{marker}-reply",
    )
    reply = InboundMessage.objects.get(provider_message_id=f"{marker}-reply")
    quarantined = QuarantinedRecord.objects.get(agency=agency, report_number=f"{marker}-0002")
    experiment = create_experiment(agency, f"{marker.lower()}-pilot", marker, dt.date(2026, 1, 1))
    route = ProviderRoute.objects.create(
        agency=agency, channel="sms", position=0, provider="outbox"
    )
    member = make_staff(agency, Role.CLERK, username=f"{marker.lower()}.clerk")
    mapping = CsvMapping.objects.create(
        agency=agency, name=f"{marker} export", file_pattern=f"{marker.lower()}-*.csv"
    )
    event = record("report.viewed", actor_label=member.user.username, agency=agency, target=report)
    arrest = CaseEvent.objects.create(
        agency=agency,
        report=report,
        kind="suspect_arrested",
        event_id=f"{marker}-arrest",
        occurred_at=timezone.now(),
    )
    obligation = Obligation.objects.create(
        event=arrest, party=party, deadline_at=timezone.now() + dt.timedelta(days=3)
    )
    assert notification is not None
    return {
        "report_id": report.pk,
        "party_id": party.pk,
        "notification_id": notification.pk,
        "reply_id": reply.pk,
        "record_id": quarantined.pk,
        "offense_id": agency.offense_codes.first().pk,
        "division_id": agency.divisions.first().pk,
        "section_id": agency.sections.first().pk,
        "template_id": MessageTemplate.objects.filter(agency=agency).first().pk,
        "experiment_id": experiment.pk,
        "user_id": member.user.pk,
        "route_id": route.pk,
        "event_id": event.pk,
        "mapping_id": mapping.pk,
        "obligation_id": obligation.pk,
    }
