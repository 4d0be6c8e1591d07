"""Public pages of the messages app that are not the details link."""

from django.urls import path

from victim_notify.messages import unsubscribe

urlpatterns = [
    path("u/<str:token>", unsubscribe.unsubscribe, name="unsubscribe"),
]
