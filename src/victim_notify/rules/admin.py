from django.contrib import admin

from victim_notify.rules.models import Decision


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """Decisions are the record of what happened and why: never edited."""

    list_display = [
        "report",
        "report_version",
        "party",
        "channel",
        "send",
        "sentence",
        "created_at",
    ]
    list_filter = ["agency", "send", "channel"]
    search_fields = ["=report__report_number"]
    readonly_fields = [f.name for f in Decision._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
