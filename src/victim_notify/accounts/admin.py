from django.contrib import admin

from victim_notify.accounts.models import AuditEvent, StaffMember


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: nobody edits or deletes the audit trail from the admin."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "agency"]
    list_filter = ["action", "agency"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    """Installation administrators put people on an agency's staff; agency administrators
    manage their own staff in the staff app."""

    list_display = ["user", "agency", "role", "disabled_reason"]
    list_filter = ["agency", "role"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
