from django.conf import settings
from django.contrib import admin
from django.urls import path

from victim_notify.api import api
from victim_notify.messages import views as message_views

admin.site.site_header = "Victim Notify"
admin.site.site_title = "Victim Notify"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("d/<str:token>", message_views.details, name="details"),
]

if settings.DEV_OUTBOX_ENABLED:
    from victim_notify.providers import views as outbox_views

    urlpatterns.append(path("dev/outbox", outbox_views.outbox, name="dev-outbox"))
