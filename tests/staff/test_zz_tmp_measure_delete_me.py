import pytest
from django.urls import reverse
from tests.conftest import make_record
from tests.web.conftest import take_in
from victim_notify.accounts.models import Role
from victim_notify.intake.models import Report
from victim_notify.messages import sender
from victim_notify.replies.inbound import receive

pytestmark = pytest.mark.django_db


def test_measure(signed_in, agency):
    record = make_record(
        victim={"email": "a.very.long.email.address.for.testing@example-municipality.gov"},
        parties=None,
    )
    record["parties"] = [
        record["parties"][0] if record["parties"] else None,
    ]
    record = make_record(victim={"email": "a.very.long.email.address.for.testing@example-municipality.gov"})
    record["parties"].append({"party_id": "S1", "role": "suspect", "relationships": [{"party_id": "1", "code": "PA"}]})
    record["parties"].append({"party_id": "W1", "role": "witness", "first_name": "Bartholomew", "last_name": "Featherstonehaugh", "phone": "520-555-0199"})
    take_in(agency, record)
    sender.send_due("x")
    report = Report.objects.get(agency=agency)
    receive(channel="sms", to_address=agency.sms_from, from_address="+15205550134", body="Who?", provider="test", provider_message_id="r1")
    page = signed_in(Role.SUPERVISOR).get(reverse("staff:report", kwargs={"report_id": report.pk})).content.decode()
    import re
    page = re.sub(r'href="/static/([^"]+)"', lambda m: f'href="file:///work/main/src/victim_notify/staff/static/{m.group(1)}"', page)
    open("/tmp/report_page.html", "w").write(page)
