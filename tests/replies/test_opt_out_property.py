"""Property: whatever the order of STOP and START replies, new reports and worker runs, no
message about a report (and no automatic answer) is handed to a provider for a contact that
is opted out at that moment. The opt-out confirmation is the one message that may follow."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_record
from victim_notify.contacts.models import OptOut
from victim_notify.intake.models import QuarantinedRecord, Report
from victim_notify.intake.store import IncomingRecord, ingest
from victim_notify.messages import sender
from victim_notify.messages.models import MessageKind, Notification
from victim_notify.providers.models import DevOutboxMessage
from victim_notify.providers.outbox import OutboxProvider
from victim_notify.replies.inbound import receive
from victim_notify.replies.models import InboundMessage

pytestmark = pytest.mark.django_db

PHONES = ["+15205550131", "+15205550132", "+15205550133"]
MAY_FOLLOW_AN_OPT_OUT = {
    MessageKind.OPT_OUT_CONFIRMATION,
    MessageKind.HELP,
    MessageKind.URGENT_ANSWER,
}
_sids = itertools.count()

action = st.one_of(
    st.tuples(st.just("report"), st.integers(0, 2)),
    st.tuples(
        st.sampled_from(["STOP", "stop please", "START", "Sí", "thanks", "HELP"]), st.integers(0, 2)
    ),
    st.tuples(st.just("work"), st.just(0)),
)


# Taken once: the monkeypatch lives as long as the test, across every hypothesis example, so
# reading the method inside the test would wrap the last example's wrapper again.
ORIGINAL_SEND_MANY = OutboxProvider.send_many


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(action, min_size=1, max_size=20))
def test_nobody_opted_out_is_handed_a_message(agency, monkeypatch, steps):
    for model in (  # each example starts from nothing; dependants first
        InboundMessage,
        Notification,
        Report,
        OptOut,
        DevOutboxMessage,
        QuarantinedRecord,
    ):
        model.objects.all().delete()
    violations: list[str] = []

    def checking_send_many(self, messages):  # type: ignore[no-untyped-def]
        messages = list(messages)
        for message in messages:
            note = Notification.objects.select_related("contact").get(pk=message.notification_id)
            opted_out = OptOut.objects.filter(
                agency=note.agency_id, contact=note.contact_id, revoked_at=None
            ).exists()
            if opted_out and note.kind not in MAY_FOLLOW_AN_OPT_OUT:
                violations.append(f"{note.kind} to an opted-out contact")
        return ORIGINAL_SEND_MANY(self, messages)

    monkeypatch.setattr(OutboxProvider, "send_many", checking_send_many)
    for what, who in steps:
        if what == "report":
            record = make_record(victim={"phone": PHONES[who]})
            ingest(agency, [IncomingRecord.from_object(0, record)], source="api")
        elif what == "work":
            while sender.send_due("w"):
                pass
        else:
            receive(
                channel="sms",
                to_address=agency.sms_from,
                from_address=PHONES[who],
                body=what,
                provider="test",
                provider_message_id=f"M{next(_sids)}",
            )
    while sender.send_due("w"):
        pass
    assert violations == []
