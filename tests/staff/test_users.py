"""Agency administrators manage their staff's accounts; unused accounts switch themselves off."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.staff.conftest import PASSWORD, make_staff, sign_in
from victim_notify.accounts.inactivity import disable_unused_accounts
from victim_notify.accounts.models import AuditEvent, Role, StaffMember
from victim_notify.worker.jobs import PERIODIC_JOBS

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber kettle orchard lantern"


def new_person(**overrides: str) -> dict[str, str]:
    return {
        "username": "jo.baker",
        "first_name": "Jo",
        "last_name": "Baker",
        "email": "jo.baker@example.org",
        "role": Role.ADVOCATE,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    } | overrides


def entry(action: str, user: object) -> AuditEvent:
    return AuditEvent.objects.get(action=action, object_id=str(user.pk))  # type: ignore[attr-defined]


def test_list_shows_the_agencys_staff_with_state_and_mfa(signed_in, staff_of, other_agency):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    clerk = staff_of(Role.CLERK)
    clerk.user.is_active = False
    clerk.user.save()
    clerk.disabled_reason = "locked after 5 failed sign-ins"
    clerk.save()
    TOTPDevice.objects.filter(user=clerk.user).delete()
    make_staff(other_agency, Role.ANALYST, username="someone.elsewhere")
    page = admin.get("/staff/users").content.decode()
    assert "agency_admin.testville" in page and "clerk.testville" in page
    assert "someone.elsewhere" not in page
    assert "Locked after 5 failed sign-ins" in page and "Not set up yet" in page


def test_admin_creates_a_staff_member_who_then_signs_in_and_sets_up_the_app(signed_in, agency):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    response = admin.post("/staff/users/new", new_person())
    user = get_user_model().objects.get(username="jo.baker")
    assert response.status_code == 302 and response["Location"] == f"/staff/users/{user.pk}"
    assert user.staff.agency == agency and user.staff.role == Role.ADVOCATE
    assert user.check_password(NEW_PASSWORD) and user.email == "jo.baker@example.org"
    created = entry("user.created", user)
    assert (
        created.detail == {"role": "advocate"} and created.actor_label == "agency_admin.testville"
    )
    assert "Jo" not in str(created.detail) and "example.org" not in str(created.detail)

    person = Client()
    login = person.post("/staff/login", {"username": "jo.baker", "password": NEW_PASSWORD})
    assert login["Location"] == "/staff/mfa"
    setup = person.get("/staff/mfa").content.decode()
    assert "<svg" in setup and "Set up your authenticator app" in setup
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    assert person.post("/staff/mfa", {"token": f"{code:06d}"})["Location"] == "/staff/replies"
    assert person.get("/staff/replies").status_code == 200


def test_a_weak_password_is_refused_with_the_validators_message(signed_in):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    weak = "police2026police"
    response = admin.post("/staff/users/new", new_person(password1=weak, password2=weak))
    assert response.status_code == 200
    assert "built around a word attackers try first" in response.content.decode()
    assert not get_user_model().objects.filter(username="jo.baker").exists()
    assert not AuditEvent.objects.filter(action="user.created").exists()


def test_a_password_with_the_agencys_name_or_a_taken_username_is_refused(signed_in):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    agency_word = "Testville!!2026"
    page = admin.post(
        "/staff/users/new", new_person(password1=agency_word, password2=agency_word)
    ).content.decode()
    assert "testville" in page and "attackers try first" in page
    page = admin.post(
        "/staff/users/new", new_person(username="AGENCY_ADMIN.testville")
    ).content.decode()
    assert "Someone already has this username." in page


def test_role_change_is_audited_with_from_and_to(signed_in, staff_of):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    clerk = staff_of(Role.CLERK)
    response = admin.post(f"/staff/users/{clerk.user.pk}", {"action": "role", "role": "supervisor"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.role == Role.SUPERVISOR
    assert entry("user.role_changed", clerk.user).detail == {"from": "clerk", "to": "supervisor"}


def test_switch_off_and_back_on_clears_lockout_and_restarts_the_90_days(signed_in, staff_of):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    advocate = staff_of(Role.ADVOCATE)
    user = advocate.user
    url = f"/staff/users/{user.pk}"
    person = sign_in(Client(), advocate)
    assert admin.post(url, {"action": "disable"}).status_code == 302
    user.refresh_from_db()
    advocate.refresh_from_db()
    assert not user.is_active and "administrator" in advocate.disabled_reason
    assert entry("user.disabled", user)
    assert person.get("/staff/replies").status_code == 302  # signed out

    # Locked out meanwhile, and not used for long: switching on clears both.
    for _ in range(5):
        Client().post("/staff/login", {"username": user.username, "password": "wrong guess"})
    assert AccessAttempt.objects.filter(username=user.username).exists()
    get_user_model().objects.filter(pk=user.pk).update(
        last_login=timezone.now() - dt.timedelta(days=200)
    )
    assert admin.post(url, {"action": "enable"}).status_code == 302
    user.refresh_from_db()
    advocate.refresh_from_db()
    assert user.is_active and advocate.disabled_reason == ""
    assert user.last_login > timezone.now() - dt.timedelta(minutes=1)
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    assert entry("user.enabled", user)
    TOTPDevice.objects.filter(user=user).update(last_t=-1)  # a code not used before
    assert sign_in(Client(), advocate).get("/staff/replies").status_code == 200


def test_mfa_reset_deletes_the_devices_so_the_app_is_set_up_again(signed_in, staff_of):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    analyst = staff_of(Role.ANALYST)
    response = admin.post(f"/staff/users/{analyst.user.pk}", {"action": "reset_mfa"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=analyst.user).exists()
    assert entry("user.mfa_reset", analyst.user).detail == {"devices": 1}
    person = Client()
    person.post("/staff/login", {"username": analyst.user.username, "password": PASSWORD})
    assert "Set up your authenticator app" in person.get("/staff/mfa").content.decode()


def test_admin_sets_a_new_password_checked_by_the_validators(signed_in, staff_of):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    clerk = staff_of(Role.CLERK)
    url = f"/staff/users/{clerk.user.pk}"
    weak = {"action": "password", "new_password1": "Sheriff123", "new_password2": "Sheriff123"}
    assert admin.post(url, weak).status_code == 200
    clerk.user.refresh_from_db()
    assert clerk.user.check_password(PASSWORD)
    good = {"action": "password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert admin.post(url, good).status_code == 302
    clerk.user.refresh_from_db()
    assert clerk.user.check_password(NEW_PASSWORD)
    assert entry("user.password_set", clerk.user)


def test_admin_cannot_switch_off_or_demote_themselves(signed_in, staff_of):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    me = staff_of(Role.AGENCY_ADMIN)
    url = f"/staff/users/{me.user.pk}"
    response = admin.post(url, {"action": "disable"})
    assert response.status_code == 400
    assert "cannot switch off your own account" in response.content.decode()
    response = admin.post(url, {"action": "role", "role": Role.ANALYST})
    assert response.status_code == 400
    assert "cannot take away your own administrator role" in response.content.decode()
    me.refresh_from_db()
    me.user.refresh_from_db()
    assert me.user.is_active and me.role == Role.AGENCY_ADMIN
    assert not AuditEvent.objects.filter(action__in=["user.disabled", "user.role_changed"])


def test_a_supervisor_may_not_manage_users(signed_in, staff_of):  # type: ignore[no-untyped-def]
    supervisor = signed_in(Role.SUPERVISOR)
    clerk = staff_of(Role.CLERK)
    assert supervisor.get("/staff/users").status_code == 403
    assert supervisor.post("/staff/users/new", new_person()).status_code == 403
    response = supervisor.post(f"/staff/users/{clerk.user.pk}", {"action": "disable"})
    assert response.status_code == 403
    clerk.user.refresh_from_db()
    assert clerk.user.is_active


def test_a_user_of_another_agency_or_without_staff_membership_is_not_found(  # type: ignore[no-untyped-def]
    signed_in, other_agency
):
    admin = signed_in(Role.AGENCY_ADMIN)
    elsewhere = make_staff(other_agency, Role.CLERK)
    loner = get_user_model().objects.create_user(username="root", password=PASSWORD)
    for user in (elsewhere.user, loner):
        assert admin.get(f"/staff/users/{user.pk}").status_code == 404
        assert admin.post(f"/staff/users/{user.pk}", {"action": "disable"}).status_code == 404
    elsewhere.user.refresh_from_db()
    assert elsewhere.user.is_active


def test_unused_accounts_job_switches_off_a_91_day_old_account_and_leaves_a_10_day_one(agency):  # type: ignore[no-untyped-def]
    now = timezone.now()
    old = make_staff(agency, Role.ANALYST, username="old.analyst")
    recent = make_staff(agency, Role.CLERK, username="recent.clerk")
    never = make_staff(agency, Role.ADVOCATE, username="never.signed.in")
    get_user_model().objects.filter(pk=old.user.pk).update(last_login=now - dt.timedelta(days=91))
    get_user_model().objects.filter(pk=recent.user.pk).update(
        last_login=now - dt.timedelta(days=10)
    )
    get_user_model().objects.filter(pk=never.user.pk).update(
        last_login=None, date_joined=now - dt.timedelta(days=95)
    )
    assert disable_unused_accounts(now) == 2
    for staff, active in ((old, False), (recent, True), (never, False)):
        staff.refresh_from_db()
        staff.user.refresh_from_db()
        assert staff.user.is_active is active
        assert staff.disabled_reason == ("" if active else "not used for 90 days")
    events = AuditEvent.objects.filter(action="user.disabled_unused")
    assert {e.object_id for e in events} == {str(old.user.pk), str(never.user.pk)}
    assert {e.actor_label for e in events} == {"system"}
    assert all(e.agency_id == agency.pk for e in events)
    assert disable_unused_accounts(now) == 0  # already off: nothing more to do


def test_unused_accounts_job_runs_daily_in_the_worker() -> None:
    job = next(j for j in PERIODIC_JOBS if j.name == "disable_unused_accounts")
    assert job.every == dt.timedelta(days=1)
    assert job.task.call() == 0


def test_staff_member_rows_are_only_created_for_the_admins_agency(signed_in, other_agency):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    admin.post("/staff/users/new", new_person(agency=str(other_agency.pk)))
    assert StaffMember.objects.get(user__username="jo.baker").agency.slug == "testville"


def test_the_new_user_form_makes_the_admin_choose_a_role(signed_in):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    page = admin.get("/staff/users/new").content.decode()
    assert '<option value="" selected>Choose a role</option>' in page
    assert 'value="agency_admin" selected' not in page
    response = admin.post("/staff/users/new", new_person(role=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not get_user_model().objects.filter(username="jo.baker").exists()
    assert not AuditEvent.objects.filter(action="user.created").exists()


def test_what_each_role_can_do_is_shown_on_the_list_and_the_new_user_page(signed_in):  # type: ignore[no-untyped-def]
    admin = signed_in(Role.AGENCY_ADMIN)
    for url in ("/staff/users", "/staff/users/new"):
        page = admin.get(url).content.decode()
        assert "What each role can do" in page
        for role in Role:
            assert f'<th scope="row">{role.label}</th>' in page
        assert "The audit log only." in page
        assert "Dashboard, reports (read only) and quarantine." in page


def test_after_switching_on_the_list_says_no_sign_in_since_until_they_sign_in(  # type: ignore[no-untyped-def]
    signed_in, staff_of
):
    admin = signed_in(Role.AGENCY_ADMIN)
    clerk = staff_of(Role.CLERK)
    url = f"/staff/users/{clerk.user.pk}"
    sign_in(Client(), clerk)
    assert "None since it was switched back on" not in admin.get("/staff/users").content.decode()
    admin.post(url, {"action": "disable"})
    admin.post(url, {"action": "enable"})
    # last_login is the switch-on time (for the 90-day rule) but is not shown as a sign-in.
    assert "None since it was switched back on" in admin.get("/staff/users").content.decode()
    assert "None since it was switched back on" in admin.get(url).content.decode()
    TOTPDevice.objects.filter(user=clerk.user).update(last_t=-1)
    sign_in(Client(), clerk)
    assert "None since it was switched back on" not in admin.get("/staff/users").content.decode()
    assert "None since it was switched back on" not in admin.get(url).content.decode()


def test_an_installation_administrator_on_the_staff_is_not_managed_from_agency_pages(
    agency, signed_in
):  # type: ignore[no-untyped-def]
    root = make_staff(agency, Role.SUPERVISOR, username="root.too")
    root.user.is_superuser = root.user.is_staff = True
    root.user.save()
    admin = signed_in(Role.AGENCY_ADMIN)
    assert admin.get(f"/staff/users/{root.user.pk}").status_code == 404
    assert admin.post(f"/staff/users/{root.user.pk}", {"action": "reset_mfa"}).status_code == 404
