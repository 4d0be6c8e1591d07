"""The admin, page by page, and who may see the development outbox.

The page list is built from the admin's own registry, so a newly registered model is covered
without touching this file (and fails here until the data fixture makes a row of it).
"""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.test import RequestFactory
from django.urls import reverse

from tests.conftest import make_record, verified_login
from tests.web.conftest import quarantine, take_in
from victim_notify.accounts.models import AuditEvent
from victim_notify.intake.models import QuarantineStatus, Report, ReportVersion
from victim_notify.messages.models import MessageTemplate, TemplateRevision
from victim_notify.rules.models import Decision

pytestmark = pytest.mark.django_db

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
READ_ONLY = [Decision, AuditEvent, ReportVersion, TemplateRevision]


def _url(model: type[models.Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _superuser_request(admin_user):  # type: ignore[no-untyped-def]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    return request


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_every_admin_page_opens_for_a_superuser(
    model, model_admin, admin_data, admin_client, admin_user
):
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"no {model._meta.label} row: add one to the admin_data fixture"

    changelist = admin_client.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1

    change = admin_client.get(_url(model, "change", quote(obj.pk)))
    assert change.status_code == 200

    if model_admin.has_add_permission(_superuser_request(admin_user)):
        assert admin_client.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_no_add_page_is_offered_where_nothing_can_be_typed(
    model, model_admin, admin_data, admin_client, admin_user
):
    """An add form whose every field is read-only can only save an empty, broken row."""
    request = _superuser_request(admin_user)
    if not model_admin.has_add_permission(request):
        return
    context = admin_client.get(_url(model, "add")).context
    form = context["adminform"].form if "adminform" in context else context["form"]
    assert form.fields, f"{model._meta.label}: the add page has nothing to fill in"


@pytest.mark.parametrize("model", READ_ONLY, ids=[m._meta.label for m in READ_ONLY])
def test_records_of_what_happened_are_read_only(model, admin_data, admin_client, admin_user):
    model_admin = admin.site._registry[model]
    obj = model._default_manager.order_by("pk").first()
    request = _superuser_request(admin_user)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, obj)
    assert not model_admin.has_delete_permission(request, obj)

    assert admin_client.get(_url(model, "add")).status_code == 403
    assert admin_client.post(_url(model, "change", quote(obj.pk)), {}).status_code == 403
    assert admin_client.post(_url(model, "delete", quote(obj.pk)), {"post": "yes"}).status_code in (
        403,
        404,
    )
    action_form = admin_client.get(_url(model, "changelist")).context["action_form"]
    if action_form is not None:
        assert "delete_selected" not in [c[0] for c in action_form.fields["action"].choices]
    assert model._default_manager.filter(pk=obj.pk).exists()


def _run_action(client, action: str, *pks: object):  # type: ignore[no-untyped-def]
    from victim_notify.intake.models import QuarantinedRecord

    return client.post(
        _url(QuarantinedRecord, "changelist"),
        {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], "index": 0},
        follow=True,
    )


def test_quarantined_record_is_taken_in_once_its_raw_json_is_fixed(agency, admin_client):
    record = make_record(offenses=["23X"])
    held = quarantine(agency, record)
    assert held.errors and not Report.objects.filter(report_number=record["report_number"]).exists()

    fixed = json.loads(held.raw)
    fixed["offenses"] = ["23F"]
    edited = admin_client.post(
        _url(type(held), "change", held.pk),
        {"raw": json.dumps(fixed), "status": QuarantineStatus.HELD, "resolution_note": ""},
    )
    assert edited.status_code == 302, edited.context and edited.context["adminform"].form.errors

    response = _run_action(admin_client, "replay_records", held.pk)
    assert response.status_code == 200
    assert "1 accepted, 0 still invalid." in response.content.decode()
    report = Report.objects.get(agency=agency, report_number=record["report_number"])
    assert report.offense_codes == ["23F"]
    assert report.decisions.filter(send=True).exists()
    held.refresh_from_db()
    assert held.status == QuarantineStatus.REPLAYED and held.resolved_at is not None


def test_quarantined_record_can_be_discarded(agency, admin_client):
    held = quarantine(agency, make_record(offenses=["23X"]))
    response = _run_action(admin_client, "discard_records", held.pk)
    assert "1 discarded." in response.content.decode()
    held.refresh_from_db()
    assert held.status == QuarantineStatus.DISCARDED
    assert held.resolved_at is not None and "admin" in held.resolution_note
    # A discarded record is not replayed by mistake.
    _run_action(admin_client, "replay_records", held.pk)
    held.refresh_from_db()
    assert held.status == QuarantineStatus.DISCARDED
    assert not Report.objects.exists()


def test_template_with_an_unknown_placeholder_is_refused(agency, admin_client):
    template = MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel="sms", language="en"
    )
    data = {
        "agency": template.agency_id,
        "kind": template.kind,
        "channel": template.channel,
        "language": template.language,
        "subject": template.subject,
        "text": template.text + "\nYour SSN: {{ victim_ssn }}",
        "compact_text": template.compact_text,
        "html": template.html,
    }
    response = admin_client.post(_url(MessageTemplate, "change", template.pk), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "unknown placeholder {{ victim_ssn }}" in " ".join(errors["text"])
    template.refresh_from_db()
    assert "victim_ssn" not in template.text
    assert template.version == 1


def test_template_with_known_placeholders_saves_a_new_version(agency, admin_client):
    template = MessageTemplate.objects.get(
        agency=agency, kind="report_filed", channel="sms", language="en"
    )
    data = {
        "agency": template.agency_id,
        "kind": template.kind,
        "channel": template.channel,
        "language": template.language,
        "subject": template.subject,
        "text": template.text.replace("Reply STOP", "Text STOP"),
        "compact_text": template.compact_text,
        "html": template.html,
    }
    response = admin_client.post(_url(MessageTemplate, "change", template.pk), data)
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.version == 2
    assert TemplateRevision.objects.filter(template=template).count() == 2


def test_dev_outbox_is_for_staff_only(client, admin_data):
    anonymous = client.get("/dev/outbox")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))
    assert "next=/dev/outbox" in anonymous["Location"]

    users = get_user_model().objects
    client.force_login(users.create_user("clerk", password="not-staff-password-1"))
    not_staff = client.get("/dev/outbox")
    assert not_staff.status_code == 302
    assert not_staff["Location"].startswith(reverse("admin:login"))

    staff = users.create_user("staff", password="staff-password-1", is_staff=True)
    client.force_login(staff)  # the password alone, without the second factor
    assert client.get("/dev/outbox").status_code == 302
    verified_login(client, staff)
    for view in ("", "?show=waiting", "?show=not_sent"):
        assert client.get(f"/dev/outbox{view}").status_code == 200


def test_staff_record_an_opt_out_that_cancels_waiting_messages_and_is_audited(agency, admin_client):
    from victim_notify.contacts.models import OptOut
    from victim_notify.intake.store import IncomingRecord, ingest
    from victim_notify.messages.models import Notification, Status

    agency.post_approval_delay_minutes = 30
    agency.save()
    ingest(agency, [IncomingRecord.from_object(0, make_record())], source="api")
    response = admin_client.post(
        reverse("admin:contacts_optout_add"),
        {"agency": agency.pk, "phone": "520 555 0134", "email": "", "note": "asked at the desk"},
    )
    assert response.status_code == 302
    opt_out = OptOut.objects.get()
    assert (opt_out.contact.value, opt_out.source) == ("+15205550134", "staff")
    assert Notification.objects.get().status == Status.CANCELLED
    assert AuditEvent.objects.filter(action="opt_out.recorded", actor_label="admin").exists()

    admin_client.post(
        reverse("admin:contacts_optout_changelist"),
        {"action": "lift", ACTION_CHECKBOX_NAME: [str(opt_out.pk)], "index": 0},
    )
    opt_out.refresh_from_db()
    assert opt_out.revoked_at is not None


def test_opt_out_form_needs_exactly_one_usable_contact(agency, admin_client):
    for data in ({"phone": "", "email": ""}, {"phone": "12", "email": ""}):
        response = admin_client.post(
            reverse("admin:contacts_optout_add"), {"agency": agency.pk, "note": "", **data}
        )
        assert response.status_code == 200 and response.context["form"].errors


def test_looking_at_personal_data_in_the_admin_is_audited(admin_data, admin_client):
    report = Report.objects.first()
    assert admin_client.get(_url(Report, "change", report.pk)).status_code == 200
    admin_client.get(_url(Report, "changelist") + "?q=Ruiz")
    viewed = AuditEvent.objects.get(action="admin.viewed")
    assert viewed.detail == {"model": "intake_report", "id": str(report.pk)}
    listed = AuditEvent.objects.get(action="admin.listed")
    assert "Ruiz" not in str(listed.detail) and len(listed.detail["search"]) == 64
    admin_client.get(_url(AuditEvent, "changelist"))  # not personal data: not recorded
    assert AuditEvent.objects.filter(action__startswith="admin.").count() == 2


def test_a_legal_hold_is_not_an_admin_field(agency, admin_client):
    """Holds go through the staff app or `legal-hold`, which audit who and why."""
    take_in(agency, make_record())
    report = Report.objects.get()
    form = admin_client.get(_url(Report, "change", quote(report.pk))).context["adminform"].form
    assert not {"legal_hold", "legal_hold_reason", "purged_at"} & set(form.fields)


def test_a_database_feeds_url_is_stored_encrypted_and_never_shown_again(agency, admin_client):
    from victim_notify.intake.models import DatabaseFeed

    form = {
        "agency": agency.pk,
        "name": "RMS view",
        "purpose": "reports",
        "database_url": "mysql+pymysql://notify:s3cret@rms-db/rms",
        "view": "vn_people",
        "changed_column": "changed_at",
        "settle_seconds": 30,
        "poll_seconds": 30,
        "enabled": "on",
    }
    assert admin_client.post(_url(DatabaseFeed, "add"), form).status_code == 302
    feed = DatabaseFeed.objects.get()
    assert feed.database_url == form["database_url"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT database_url FROM intake_databasefeed")
        assert "s3cret" not in cursor.fetchone()[0]

    page = admin_client.get(_url(DatabaseFeed, "change", feed.pk)).content.decode()
    assert "s3cret" not in page
    kept = form | {"database_url": "", "poll_seconds": 60}
    assert admin_client.post(_url(DatabaseFeed, "change", feed.pk), kept).status_code == 302
    feed.refresh_from_db()
    assert feed.poll_seconds == 60 and feed.database_url == form["database_url"]

    bad = form | {"name": "Other", "database_url": "not a url"}
    refused = admin_client.post(_url(DatabaseFeed, "add"), bad)
    assert "Not a database URL" in refused.content.decode()
