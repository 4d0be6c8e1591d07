from django.contrib import admin

from victim_notify.calls.models import Call


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "call_number",
        "agency",
        "priority",
        "received_at",
        "dispatched_at",
        "closed_at",
        "texts_withheld",
    ]
    list_filter = ["agency", "priority", "texts_withheld"]
    search_fields = ["call_number", "report_number"]
    readonly_fields = [f.name for f in Call._meta.fields]

    def has_add_permission(self, request):
        # Calls come from CAD; an add form here has nothing a person should type.
        return False
