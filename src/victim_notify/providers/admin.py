from django.contrib import admin

from victim_notify.providers.models import (
    DevOutboxMessage,
    ProviderEvent,
    ProviderHealth,
    ProviderRoute,
    RateWindow,
)


@admin.register(DevOutboxMessage)
class DevOutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["channel", "recipient", "subject", "received_at"]
    list_filter = ["channel"]
    readonly_fields = [f.name for f in DevOutboxMessage._meta.fields]

    def has_add_permission(self, request):
        # Only the development providers file messages here.
        return False


@admin.register(ProviderRoute)
class ProviderRouteAdmin(admin.ModelAdmin):
    list_display = ["agency", "channel", "position", "provider", "messages_per_second"]
    list_filter = ["agency", "channel"]


@admin.register(ProviderHealth)
class ProviderHealthAdmin(admin.ModelAdmin):
    """Taking a provider out of use by hand (up unticked) is allowed; the health check brings
    it back when it answers."""

    list_display = [
        "provider",
        "up",
        "consecutive_failures",
        "down_since",
        "checked_at",
        "last_error",
    ]
    readonly_fields = ["consecutive_failures", "down_since", "checked_at", "last_error"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(admin.ModelAdmin):
    list_display = ["at", "provider", "event", "detail"]
    list_filter = ["provider", "event"]
    readonly_fields = ["provider", "at", "event", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RateWindow)
class RateWindowAdmin(admin.ModelAdmin):
    list_display = ["provider", "second", "used"]
    readonly_fields = ["provider", "second", "used"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
