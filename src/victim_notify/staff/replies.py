"""The replies inbox: what people wrote back, urgent first, and marking each one handled with a
note saying what was done."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from victim_notify.accounts.audit import record_request
from victim_notify.contacts.normalise import display_phone
from victim_notify.replies import handling
from victim_notify.replies.models import InboundMessage, Intent
from victim_notify.staff.access import requires

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

PER_PAGE = 50

CHANNELS = {"sms": gettext_lazy("Text"), "email": gettext_lazy("Email")}
INTENTS: dict[str, _StrPromise] = {
    Intent.OPT_OUT: gettext_lazy("Opt-out"),
    Intent.OPT_IN: gettext_lazy("Opt-in"),
    Intent.HELP: gettext_lazy("Help"),
    Intent.SURVEY_ANSWER: gettext_lazy("Survey answer"),
    Intent.MESSAGE: gettext_lazy("Message"),
}


class InboxFilter(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("open", gettext_lazy("Not handled")),
            ("handled", gettext_lazy("Handled")),
            ("all", gettext_lazy("All")),
        ],
    )
    urgent = forms.BooleanField(label=gettext_lazy("Urgent only"), required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        choices=[("", gettext_lazy("Any")), *CHANNELS.items()],
    )


class HandleForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What was done; no need to repeat the message."),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(
        self, reply: InboundMessage, data: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        # One form per row: ids must differ between rows.
        super().__init__(data, auto_id=f"reply-{reply.pk}-%s", **kwargs)
        if reply.urgent:
            note = self.fields["note"]
            note.required = True
            note.help_text = _("Required for an urgent reply: what was done about it.")
            note.error_messages["required"] = _(
                "An urgent reply needs a note saying what was done."
            )


def _filtered(agency: Any, choice: dict[str, Any]) -> QuerySet[InboundMessage]:
    replies = InboundMessage.objects.filter(agency=agency).select_related("report", "contact")
    state = choice.get("state") or "open"
    if state != "all":
        replies = replies.filter(handled_at__isnull=state == "open")
    if choice.get("urgent"):
        replies = replies.filter(urgent=True)
    if choice.get("channel"):
        replies = replies.filter(channel=choice["channel"])
    # Urgent first; among them, the ones still waiting before the handled ones.
    return replies.order_by("-urgent", F("handled_at").asc(nulls_first=True), "-received_at")


def _row(reply: InboundMessage, back: str, form: HandleForm | None = None) -> dict[str, Any]:
    return {
        "reply": reply,
        "sender": display_phone(reply.contact.value)
        if reply.channel == "sms"
        else reply.contact.value,
        "channel": CHANNELS.get(reply.channel, reply.channel),
        "intent": INTENTS.get(reply.intent, reply.intent),
        "form": form
        if form is not None
        else (HandleForm(reply, initial={"next": back}) if reply.handled_at is None else None),
    }


def _page_links(request: HttpRequest, page: Page) -> dict[str, str]:
    query = request.GET.copy()
    links = {}
    for name, number in (
        ("previous", page.previous_page_number() if page.has_previous() else None),
        ("next", page.next_page_number() if page.has_next() else None),
    ):
        if number is not None:
            query["page"] = str(number)
            links[name] = "?" + query.urlencode()
    return links


@requires("replies")
def inbox(request: HttpRequest) -> HttpResponse:
    filters = InboxFilter(request.GET or None)
    choice = filters.cleaned_data if filters.is_valid() else {}
    page = Paginator(_filtered(request.agency, choice), PER_PAGE).get_page(  # type: ignore[attr-defined]
        request.GET.get("page")
    )
    back = request.get_full_path()
    record_request(
        request, "replies.viewed", detail={"count": len(page.object_list), "page": page.number}
    )
    waiting = InboundMessage.objects.filter(agency=request.agency, handled_at=None)  # type: ignore[attr-defined]
    context = {
        "filters": filters,
        "page": page,
        "links": _page_links(request, page),
        "rows": [_row(reply, back) for reply in page.object_list],
        "urgent_waiting": waiting.filter(urgent=True).count(),
        "waiting": waiting.count(),
    }
    with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
        return render(request, "staff/replies.html", context)


def _back(request: HttpRequest, wanted: str) -> str:
    inbox_url = reverse("staff:replies")
    safe = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()})
    return wanted if safe and wanted.startswith(inbox_url) else inbox_url


@requires("replies")
@require_POST
def handle(request: HttpRequest, reply_id: str) -> HttpResponse:
    reply = get_object_or_404(
        InboundMessage.objects.select_related("report", "contact"),
        pk=reply_id,
        agency=request.agency,  # type: ignore[attr-defined]
    )
    form = HandleForm(reply, request.POST)
    back = _back(request, request.POST.get("next", ""))
    notice, level = "", messages.SUCCESS
    if reply.handled_at is not None:
        notice, level = _already(reply), messages.WARNING
    elif form.is_valid():
        note = form.cleaned_data["note"].strip()
        by = request.user.get_username()
        if handling.mark_handled(reply, by=by, user=request.user, note=note):
            record_request(request, "reply.handled", target=reply)
            notice = _("Marked handled.")
        else:
            notice, level = _already(reply), messages.WARNING

    if request.headers.get("HX-Request") == "true":
        row = _row(reply, back, form if reply.handled_at is None else None)
        context = {"row": row, "notice": notice, "warning": level == messages.WARNING}
        with timezone.override(request.agency.zone):  # type: ignore[attr-defined]
            return render(request, "staff/replies_row.html", context)
    if notice:
        messages.add_message(request, level, notice)
    else:
        for error in form.errors.get("note", []):
            messages.error(request, error)  # type: ignore[arg-type]  # ErrorList yields strings
    return redirect(back)


def _already(reply: InboundMessage) -> str:
    return _("Already marked handled by %(name)s; nothing was changed.") % {
        "name": reply.handled_by_name or _("someone else")
    }


urlpatterns = [
    path("replies", inbox, name="replies"),
    path("replies/<uuid:reply_id>/handle", handle, name="reply-handle"),
]
