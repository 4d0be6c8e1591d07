from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import render

from victim_notify.accounts.audit import record as audit
from victim_notify.replies import handling
from victim_notify.replies.models import InboundMessage


class HandledForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What was done; no need to repeat the message.",
    )


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    """The replies inbox: urgent first, then those nobody has handled, newest first."""

    list_display = [
        "received_at",
        "urgent",
        "urgent_reasons",
        "intent",
        "channel",
        "short_body",
        "report",
        "handled_at",
        "handled_by",
    ]
    list_filter = [
        "agency",
        "urgent",
        "intent",
        "channel",
        ("handled_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["=report__report_number"]
    readonly_fields = [
        *(f.name for f in InboundMessage._meta.fields if f.name != "handled_note"),
        "urgent_reasons",
    ]
    actions = ["mark_handled"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMessage]:
        return (
            super()
            .get_queryset(request)
            .select_related("report", "handled_by")
            .order_by("-urgent", F("handled_at").asc(nulls_first=True), "-received_at")
        )

    @admin.display(description="Message")
    def short_body(self, obj: InboundMessage) -> str:
        return obj.body if len(obj.body) <= 80 else obj.body[:77] + "..."

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: InboundMessage, form: object, change: bool
    ) -> None:
        # Only the note can be edited; saving it marks the reply handled by this person,
        # unless someone else got there first (then their note stays, and this is said).
        if obj.handled_at is not None:
            super().save_model(request, obj, form, change)
            audit(
                "reply.note_changed",
                actor_label=request.user.get_username(),
                actor=request.user,
                agency=obj.agency,
                target=obj,
            )
            return
        if not handling.mark_handled(
            obj, by=request.user.get_username(), user=request.user, note=obj.handled_note
        ):
            self.message_user(
                request, f"{obj.handled_by_name} had already marked it handled.", messages.WARNING
            )
            return
        audit(
            "reply.handled",
            actor_label=request.user.get_username(),
            actor=request.user,
            agency=obj.agency,
            target=obj,
        )

    @admin.action(description="Mark handled (with a note)")
    def mark_handled(self, request: HttpRequest, queryset: QuerySet[InboundMessage]):
        if "apply" in request.POST:
            form = HandledForm(request.POST)
            if form.is_valid():
                count = 0
                for reply in queryset.filter(handled_at=None):
                    if not handling.mark_handled(
                        reply,
                        by=request.user.get_username(),
                        user=request.user,
                        note=form.cleaned_data["note"],
                    ):
                        continue
                    audit(
                        "reply.handled",
                        actor_label=request.user.get_username(),
                        actor=request.user,
                        agency=reply.agency,
                        target=reply,
                    )
                    count += 1
                self.message_user(
                    request,
                    f"{count} repl{'y' if count == 1 else 'ies'} marked handled.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(request.get_full_path())
        return render(
            request,
            "admin/replies/mark_handled.html",
            {
                **self.admin_site.each_context(request),
                "title": "Mark replies handled",
                "replies": queryset,
                "form": HandledForm(),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )
