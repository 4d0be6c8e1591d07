from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from victim_notify.agencies.models import Agency
from victim_notify.contacts.models import Contact, OptOut, OptOutSource
from victim_notify.contacts.normalise import normalise_phone
from victim_notify.contacts.optouts import BadContact, contact_for, opt_in, opt_out
from victim_notify.privacy.fields import matching_any


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "value", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=value"]  # answered through the blind index, below

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Contact], search_term: str
    ) -> tuple[QuerySet[Contact], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        candidates = {term, term.lower()}
        phone = normalise_phone(term, "US").value
        if phone:
            candidates.add(phone)
        return queryset.filter(matching_any("value_index", "contact", candidates)), False


class OptOutForm(forms.Form):
    agency = forms.ModelChoiceField(Agency.objects.all())
    phone = forms.CharField(required=False, help_text="Any common format.")
    email = forms.EmailField(required=False)
    note = forms.CharField(required=False, max_length=200, help_text="Why; no personal data.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("phone")) == bool(data.get("email")):
            raise forms.ValidationError("Give a phone number or an email address (one of them).")
        try:
            data["contact"] = contact_for(
                data["agency"], phone=data.get("phone"), email=data.get("email")
            )
        except (BadContact, KeyError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    """Opt-outs are recorded through the same path as every other (which also cancels what is
    still waiting to go and writes the audit trail), and lifted, never edited."""

    list_display = ["contact", "agency", "source", "note", "created_at", "revoked_at"]
    list_filter = ["agency", "source"]
    readonly_fields = ["agency", "contact", "source", "note", "created_at", "revoked_at"]
    actions = ["lift"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        form = OptOutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            added = opt_out(
                form.cleaned_data["agency"],
                form.cleaned_data["contact"],
                source=OptOutSource.STAFF,
                actor_label=request.user.get_username(),
                note=form.cleaned_data["note"],
            )
            self.message_user(request, "Opt-out recorded." if added else "Already opted out.")
            return HttpResponseRedirect(reverse("admin:contacts_optout_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Record an opt-out",
            "form": form,
            "opts": self.model._meta,
        }

        return TemplateResponse(request, "admin/contacts/optout/add.html", context)

    @admin.action(description="Lift the selected opt-outs")
    def lift(self, request: HttpRequest, queryset: QuerySet[OptOut]) -> None:
        lifted = sum(
            opt_in(o.agency, o.contact, actor_label=request.user.get_username())
            for o in queryset.filter(revoked_at=None).select_related("agency", "contact")
        )
        self.message_user(request, f"{lifted} opt-out(s) lifted.", messages.SUCCESS)
