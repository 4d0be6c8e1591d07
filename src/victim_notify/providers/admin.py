from django.contrib import admin

from victim_notify.providers.models import DevOutboxMessage


@admin.register(DevOutboxMessage)
class DevOutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["channel", "recipient", "subject", "received_at"]
    list_filter = ["channel"]
    readonly_fields = [f.name for f in DevOutboxMessage._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        # Only the development providers file messages here.
        return False
