"""SCAFFOLD: replaced by the page's real module."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from victim_notify.staff.access import requires


@requires("replies")
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "staff/scaffold.html", {"title": "replies"})


urlpatterns = [path("replies", page, name="replies")]
