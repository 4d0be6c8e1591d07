"""The staff web app, under /staff/. Each page's module holds its own URL patterns."""

from __future__ import annotations

from django.urls import path

from victim_notify.staff import (
    audit_log,
    case_settings,
    compliance,
    configuration,
    dashboard,
    experiments,
    home,
    login,
    mappings,
    quarantine,
    records,
    replies,
    reports,
    users,
)

app_name = "staff"

urlpatterns = [
    path("", home.home, name="home"),
    path("login", login.login, name="login"),
    path("mfa", login.mfa, name="mfa"),
    path("logout", login.logout, name="logout"),
    path("password", login.password_change, name="password"),
    path("no-agency", login.no_agency, name="no-agency"),
    *dashboard.urlpatterns,
    *reports.urlpatterns,
    *replies.urlpatterns,
    *compliance.urlpatterns,
    *quarantine.urlpatterns,
    *configuration.urlpatterns,
    *records.urlpatterns,
    *case_settings.urlpatterns,
    *mappings.urlpatterns,
    *experiments.urlpatterns,
    *users.urlpatterns,
    *audit_log.urlpatterns,
]
