from django import forms
from django.contrib import admin

from victim_notify.agencies.models import (
    Agency,
    AgencyLanguage,
    ApiToken,
    Division,
    InvestigativeSection,
    OffenseCode,
    OffenseText,
    SensitiveCategory,
)


class AgencyForm(forms.ModelForm):
    public_base_url = forms.URLField(
        assume_scheme="https", help_text=Agency._meta.get_field("public_base_url").help_text
    )
    excluded_categories = forms.MultipleChoiceField(
        choices=SensitiveCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Victims in these kinds of case are never written to.",
    )

    class Meta:
        model = Agency
        exclude: list[str] = []


class AgencyLanguageInline(admin.TabularInline):
    model = AgencyLanguage
    extra = 0


class DivisionInline(admin.TabularInline):
    model = Division
    extra = 0


class SectionInline(admin.TabularInline):
    model = InvestigativeSection
    extra = 0


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyForm
    list_display = ["name", "slug", "timezone", "default_language"]
    inlines = [AgencyLanguageInline, DivisionInline, SectionInline]


class OffenseTextInline(admin.StackedInline):
    model = OffenseText
    extra = 0


@admin.register(OffenseCode)
class OffenseCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "sensitive_category", "section", "agency"]
    list_filter = ["agency", "sensitive_category"]
    search_fields = ["code", "title"]
    inlines = [OffenseTextInline]


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "substation_phone", "go_live_date", "agency"]
    list_filter = ["agency"]


@admin.register(InvestigativeSection)
class InvestigativeSectionAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "hours", "agency"]
    list_filter = ["agency"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "key_id", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_id", "secret_hash", "created_at", "last_used_at"]
    list_filter = ["agency"]

    def has_add_permission(self, request):
        # Tokens are issued by `victim-notify api-token create`, which shows the secret once.
        return False
