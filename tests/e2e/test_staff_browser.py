"""The staff app in a real Chromium, as agency staff use it: signing in with an authenticator
app, the dashboard, finding a report and reading its timeline, editing a template while the
preview follows, triaging an urgent reply, fixing and replaying a quarantined record; and an
axe-core check of every page, in English and Spanish, with zero serious or critical findings.
Each test saves screenshots in test-artifacts/."""

from __future__ import annotations

import re
from base64 import b32decode
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.oath import totp

from tests.conftest import make_record
from tests.e2e.conftest import axe_violations, screenshot
from tests.e2e.staff_pages import sign_in
from tests.intake.test_mapped_csv import SAMPLE, rms_mapping
from tests.staff.conftest import PASSWORD, make_staff
from tests.staff.urlmap import staff_patterns
from tests.staff.world import objects_of
from tests.web.conftest import take_in
from victim_notify.accounts.models import Role, StaffMember
from victim_notify.intake.models import QuarantinedRecord, Report
from victim_notify.messages import sender
from victim_notify.messages.models import MessageTemplate
from victim_notify.replies.inbound import receive
from victim_notify.replies.models import InboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def busy_agency(agency):  # type: ignore[no-untyped-def]
    """A few days of work: reports sent, one not sent (domestic violence), an urgent reply, a
    record quarantined for a phone number the RMS mangled."""
    take_in(
        agency,
        make_record(report_number="T-100001", victim={"email": "ana.ruiz@example.com"}),
        make_record(
            report_number="T-100002",
            victim={"first_name": "Luis", "last_name": "Soto", "phone": "520-555-0151"},
        ),
        make_record(report_number="T-100003", offenses=["DV"]),
        make_record(report_number="T-100004", victim={"phone": "(520) 555-0162 ext 4 " * 3}),
    )
    while sender.send_due("browser-tests"):
        pass
    receive(
        channel="sms",
        to_address=agency.sms_from,
        from_address="+15205550151",
        body="He came back and is outside my house right now",
        provider="test",
        provider_message_id="urgent-1",
    )
    return agency


@pytest.fixture
def page(chromium: Any) -> Any:
    context = chromium.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


def test_first_sign_in_sets_up_the_authenticator_then_the_dashboard_reads(
    page, live_server, busy_agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    user = get_user_model().objects.create_user("sam.supervisor", password=PASSWORD)
    StaffMember.objects.create(user=user, agency=busy_agency, role=Role.SUPERVISOR)
    page.goto(f"{live_server.url}/staff/")
    assert page.url.startswith(f"{live_server.url}/staff/login")
    page.get_by_label("Username").fill("sam.supervisor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Set up your authenticator app").wait_for()
    assert page.locator(".qr svg").count() == 1
    screenshot(page, artifacts / "staff-mfa-setup.png")
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Six-digit code").fill(f"{totp(key):06d}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/staff/dashboard")
    assert page.get_by_role("heading", name="Dashboard", exact=True).is_visible()
    assert page.locator(".chart svg").count() >= 1
    body = page.locator("main").inner_text()
    assert "Domestic" in body or "domestic" in body  # why the DV victim was not written to
    screenshot(page, artifacts / "staff-dashboard.png")
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    screenshot(page, artifacts / "staff-dashboard-phone.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    assert page.console_errors == []


def test_find_a_report_and_read_its_timeline(page, live_server, busy_agency, artifacts) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, make_staff(busy_agency, Role.ADVOCATE))
    page.goto(f"{live_server.url}/staff/reports")
    page.get_by_label("Search by").select_option("phone")
    page.get_by_label("Search for").fill("(520) 555-0151")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="T-100002").click()
    page.get_by_role("heading", name="Report T-100002").wait_for()
    timeline = page.locator("main").inner_text()
    assert "Luis" in timeline and "Soto" in timeline
    bubble = page.locator(".bubble").first.inner_text()
    assert "T-100002" in bubble
    assert "outside my house" in timeline  # the reply, on the report it answers
    screenshot(page, artifacts / "staff-report-timeline.png")
    assert axe_violations(page) == []


def test_edit_a_template_and_watch_the_preview_follow(
    page, live_server, busy_agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, make_staff(busy_agency, Role.SUPERVISOR))
    template = MessageTemplate.objects.get(
        agency=busy_agency, kind="report_filed", channel="sms", language="en"
    )
    page.goto(f"{live_server.url}{reverse('staff:config-template', args=[template.pk])}")
    preview = page.locator("#preview")
    before = preview.inner_text()
    text = page.locator("textarea[name=text]")
    text.fill(text.input_value() + "\nWe are sorry this happened to you. 💙")
    page.wait_for_function(
        "() => document.querySelector('#preview').innerText.includes('sorry this happened')"
    )
    after = preview.inner_text()
    assert after != before
    assert "UCS-2" in after  # the emoji changes the encoding, and the page says so
    screenshot(page, artifacts / "staff-template-editor.png")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_load_state()
    template.refresh_from_db()
    assert template.version == 2 and "sorry this happened" in template.text


def test_triage_an_urgent_reply(page, live_server, busy_agency, artifacts) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, make_staff(busy_agency, Role.ADVOCATE))
    assert page.url == f"{live_server.url}/staff/replies"  # an advocate starts here
    row = page.locator("tr", has_text="outside my house")
    assert "Urgent" in row.inner_text()
    screenshot(page, artifacts / "staff-replies.png")
    assert axe_violations(page) == []
    row.get_by_label("Note").fill("Called her back; patrol unit sent, on scene 14:02.")
    row.get_by_role("button", name="Mark handled").click()
    page.locator("tr", has_text="outside my house").get_by_text("Handled", exact=True).wait_for()
    reply = InboundMessage.objects.get(provider_message_id="urgent-1")
    assert reply.handled_at is not None and "patrol" in reply.handled_note
    screenshot(page, artifacts / "staff-replies-handled.png")


def test_fix_and_replay_a_quarantined_record(page, live_server, busy_agency, artifacts) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, make_staff(busy_agency, Role.CLERK))
    assert page.url == f"{live_server.url}/staff/quarantine"
    record = QuarantinedRecord.objects.get(report_number="T-100004")
    page.get_by_role("link", name=f"Record {record.pk}").click()
    phone = page.locator("input[name='fix-0']")
    phone.fill("(520) 555-0162")
    screenshot(page, artifacts / "staff-quarantine-record.png")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save and replay").click()
    page.get_by_text("T-100004").first.wait_for()
    assert Report.objects.filter(report_number="T-100004").exists()
    record.refresh_from_db()
    assert record.status != "held"


def test_an_administrator_puts_a_report_on_legal_hold(
    page, live_server, busy_agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    sign_in(page, live_server.url, make_staff(busy_agency, Role.AGENCY_ADMIN))
    report = Report.objects.get(report_number="T-100002")
    page.goto(f"{live_server.url}/staff/reports/{report.pk}")
    page.get_by_label("Why (a case number, a court order, a records request)").fill(
        "Case 26-CV-0113"
    )
    page.get_by_role("button", name="Place a legal hold").click()
    page.get_by_text("Legal hold placed.").wait_for()
    panel = page.locator("#legal-hold").inner_text()
    assert "On legal hold" in panel and "Case 26-CV-0113" in panel
    screenshot(page, artifacts / "staff-report-legal-hold.png")
    report.refresh_from_db()
    assert report.legal_hold

    page.goto(f"{live_server.url}/staff/config/records")
    page.get_by_role("link", name="T-100002").wait_for()
    page.get_by_label("Reports and everything about them (days)").fill("2555")
    page.get_by_role("button", name="Save retention periods").click()
    page.get_by_text("Retention periods saved.").wait_for()
    screenshot(page, artifacts / "staff-records.png")
    busy_agency.refresh_from_db()
    assert busy_agency.retain_reports_days == 2555
    assert axe_violations(page) == []
    assert page.console_errors == []


def test_a_supervisor_tries_an_rms_export_mapping_on_a_sample_then_saves_it(
    page, live_server, agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    mapping = rms_mapping(agency)
    del mapping.value_maps["offenses"]["ASLT-SIM"]  # their assault code not mapped yet
    mapping.save()
    sign_in(page, live_server.url, make_staff(agency, Role.SUPERVISOR))
    page.goto(f"{live_server.url}/staff/config")
    page.get_by_role("link", name="RMS exports").click()
    page.get_by_role("link", name="RMS nightly").click()
    page.get_by_label("A sample of their export").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Try on the sample").click()
    tried = page.locator("#tried")
    tried.wait_for()
    assert "Nothing was kept and nothing was sent." in tried.inner_text()
    assert "Would be quarantined\n2" in tried.inner_text()
    assert tried.get_by_text("ASLT-SIM").count() == 2
    screenshot(page, artifacts / "staff-mapping-tried.png")

    page.get_by_label("Their values and ours: Offense codes").fill(
        "BURG-RES = 220\nTHEFT-VEH = 23F\nASLT-SIM = 13B"
    )
    page.get_by_role("button", name="Try on the sample").click()  # the same sample, carried
    page.wait_for_function(
        "document.querySelector('#tried') && "
        "document.querySelector('#tried').innerText.includes('Would be accepted\\n6')"
    )
    assert not Report.objects.exists()
    page.get_by_role("button", name="Save mapping").click()
    page.get_by_text("Mapping saved.").wait_for()
    mapping.refresh_from_db()
    assert mapping.value_maps["offenses"]["ASLT-SIM"] == "13B"
    assert axe_violations(page) == []
    assert page.console_errors == []


def test_every_staff_page_passes_axe_in_english_and_spanish(
    page, live_server, busy_agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    mine = objects_of(busy_agency, "MINE")
    sign_in(page, live_server.url, make_staff(busy_agency, Role.AGENCY_ADMIN))
    pages = []
    for route, name, _ in staff_patterns():
        if name.split(":")[1] in {"logout", "login", "mfa", "no-agency", "home"}:
            continue
        keys = re.findall(r"<(?:\w+:)?(\w+)>", route)
        url = reverse(name, kwargs={k: mine[k] for k in keys})
        response = page.request.get(f"{live_server.url}{url}", max_redirects=0)
        html = "text/html" in response.headers.get("content-type", "")
        # An email's own HTML, shown to staff in a sandboxed frame where no script runs (axe
        # included); emails are checked for accessibility where they are rendered.
        sandboxed = "sandbox" in response.headers.get("content-security-policy", "")
        if response.status == 200 and html and not sandboxed:
            pages.append(url)
    assert len(pages) >= 20
    findings = {}
    for language in ("en", "es"):
        page.goto(f"{live_server.url}/staff/dashboard")
        with page.expect_navigation():  # the chooser submits itself (staff.js)
            page.locator("#language").select_option(language)
        assert page.locator("html").get_attribute("lang") == language
        for url in pages:
            page.goto(f"{live_server.url}{url}")
            found = axe_violations(page)
            if found:
                findings[f"{language} {url}"] = found
    page.goto(f"{live_server.url}/staff/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Panel"
    screenshot(page, artifacts / "staff-dashboard-es.png")
    assert findings == {}
    assert page.console_errors == []


def test_a_supervisor_sees_a_late_victim_notice_and_records_telling_them_another_way(
    page, live_server, agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from victim_notify.cases.intake import take_in as take_in_events

    take_in(agency, make_record(report_number="DV-0042", offenses=["DV"]))
    take_in(agency, make_record(report_number="TH-0043"))
    week_ago = (timezone.now() - timezone.timedelta(days=8)).isoformat()
    summary = take_in_events(
        agency,
        [
            {"report_number": "DV-0042", "kind": "suspect_arrested", "occurred_at": week_ago},
            {
                "report_number": "TH-0043",
                "kind": "case_suspended",
                "occurred_at": timezone.now().isoformat(),
            },
        ],
    )
    assert summary.accepted == 2 and summary.notifications_queued == 1  # not in the DV case
    sign_in(page, live_server.url, make_staff(agency, Role.SUPERVISOR))
    page.get_by_role("link", name="Deadlines", exact=True).click()
    assert page.locator('[data-count="late"]').inner_text() == "1"
    late = page.locator('tr[data-standing="late"]')
    assert "DV-0042" in late.inner_text() and "enhanced rights" in late.inner_text()
    screenshot(page, artifacts / "staff-compliance.png")

    late.get_by_label("How they were told").fill("Advocate R. Diaz called the victim at 14:10")
    late.get_by_role("button", name="Mark told").click()
    page.get_by_text("Report DV-0042: marked as told.").wait_for()
    assert page.locator('[data-count="late"]').inner_text() == "0"
    page.get_by_role("link", name="Met: 1").click()
    assert "Advocate R. Diaz called the victim at 14:10" in page.locator("tbody").inner_text()
    assert axe_violations(page) == []
    assert page.console_errors == []


def test_a_supervisor_sets_the_case_updates_and_a_status_then_tells_of_an_arrest(
    page, live_server, agency, artifacts
) -> None:  # type: ignore[no-untyped-def]
    from victim_notify.cases.models import CaseEvent, Holiday

    sign_in(page, live_server.url, make_staff(agency, Role.SUPERVISOR))
    page.goto(f"{live_server.url}/staff/config")
    page.get_by_role("link", name="Case updates").click()
    page.get_by_label("RMS statuses that mean it: Suspect arrested").fill("Cleared by Arrest")
    page.get_by_label("Deadline for enhanced-rights victims: Case closed").fill("9")
    page.get_by_label("Tell victims: Property recovered").uncheck()
    page.get_by_label("Holidays the deadlines skip").fill("2026-12-25 Christmas Day")
    page.get_by_role("button", name="Save case updates").click()
    error = page.locator("#id_enhanced_case_closed_error")
    assert "no later than the usual" in error.inner_text()
    screenshot(page, artifacts / "staff-case-updates-error.png")
    assert axe_violations(page) == []

    page.get_by_label("Deadline for enhanced-rights victims: Case closed").fill("2")
    page.get_by_role("button", name="Save case updates").click()
    page.get_by_text("Case updates saved.").wait_for()
    screenshot(page, artifacts / "staff-case-updates.png")
    agency.refresh_from_db()
    assert agency.case_event_statuses == {"cleared by arrest": "suspect_arrested"}
    assert agency.notice_deadlines["case_closed"] == [5, 2]
    assert "property_recovered" not in agency.case_update_kinds
    assert Holiday.objects.get(agency=agency).name == "Christmas Day"

    # The RMS's next version says the case was cleared by an arrest: that is the event.
    record = make_record(report_number="TH-0077")
    take_in(agency, record)
    take_in(agency, record | {"status": "Cleared by Arrest"})
    assert CaseEvent.objects.get(report__report_number="TH-0077").kind == "suspect_arrested"
    assert page.console_errors == []
