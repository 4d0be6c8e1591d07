from django.contrib import admin

from victim_notify.worker.models import ScheduledRun


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "period_start", "enqueued_at"]
    list_filter = ["job"]
    readonly_fields = ["job", "period_start", "enqueued_at"]

    def has_add_permission(self, request):
        # Rows are made by the scheduler; an add form here has nothing to fill in.
        return False
