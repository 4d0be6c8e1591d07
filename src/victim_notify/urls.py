from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from victim_notify.accounts.admin_site import AuditedAdminSite
from victim_notify.api import api
from victim_notify.healthz import healthz
from victim_notify.messages import views as message_views
from victim_notify.providers import twilio_webhooks
from victim_notify.surveys import views as survey_views

# Installation administrators sign in to the admin with a TOTP code too, and their looks at
# personal data are audited.
admin.site.__class__ = AuditedAdminSite
admin.site.site_header = "Victim Notify"
admin.site.site_title = "Victim Notify"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("staff/", include("victim_notify.staff.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", RedirectView.as_view(pattern_name="staff:home", permanent=False)),
    path("d/<str:token>", message_views.details, name="details"),
    path("o/<str:token>.gif", message_views.email_opened, name="email-opened"),
    path("", include("victim_notify.messages.urls")),
    path("", include("victim_notify.cases.portal")),
    path("s/<str:key>", survey_views.survey_form, name="survey-form"),
    path("hooks/twilio/inbound", twilio_webhooks.inbound, name="twilio-inbound"),
    path(
        "hooks/twilio/status/<uuid:notification_id>", twilio_webhooks.status, name="twilio-status"
    ),
]

if settings.DEV_OUTBOX_ENABLED:
    from victim_notify.providers import views as outbox_views

    urlpatterns.append(path("dev/outbox", outbox_views.outbox, name="dev-outbox"))
