from django.contrib import admin

from victim_notify.messages.models import (
    DeliveryEvent,
    Engagement,
    MessageTemplate,
    Notification,
    TemplateRevision,
)
from victim_notify.messages.templating import PLACEHOLDERS


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["agency", "kind", "channel", "language", "version", "updated_at"]
    list_filter = ["agency", "channel", "language"]
    readonly_fields = ["version", "updated_at", "placeholders"]
    fields = [
        "agency",
        "kind",
        "channel",
        "language",
        "subject",
        "text",
        "compact_text",
        "html",
        "version",
        "updated_at",
        "placeholders",
    ]

    @admin.display(description="Placeholders you can use")
    def placeholders(self, obj: MessageTemplate) -> str:
        return "; ".join(f"{{{{ {name} }}}}: {meaning}" for name, meaning in PLACEHOLDERS.items())


@admin.register(TemplateRevision)
class TemplateRevisionAdmin(admin.ModelAdmin):
    list_display = ["template", "version", "created_at"]
    readonly_fields = [f.name for f in TemplateRevision._meta.fields]

    # Frozen wording that notifications point at: made by saving a template, never here.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "report",
        "channel",
        "language",
        "status",
        "attempts",
        "not_before",
        "sent_at",
        "provider",
    ]
    list_filter = ["agency", "status", "channel", "provider"]
    search_fields = ["=report__report_number", "=provider_message_id"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """What providers and readers told us: a record, never edited."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(_ReadOnly):
    list_display = ["at", "notification", "source", "provider_status", "error_code"]
    list_filter = ["source", "provider_status"]


@admin.register(Engagement)
class EngagementAdmin(_ReadOnly):
    list_display = ["at", "notification", "kind", "machine", "agent"]
    list_filter = ["kind", "machine", "agent"]
