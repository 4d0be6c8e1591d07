from django.contrib import admin

from victim_notify.contacts.models import Contact, OptOut


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "value", "created_at"]
    list_filter = ["kind"]
    search_fields = ["=value"]


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["contact", "agency", "source", "created_at", "revoked_at"]
    list_filter = ["agency", "source"]
    raw_id_fields = ["contact"]
