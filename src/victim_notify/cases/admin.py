from django.contrib import admin

from victim_notify.cases.models import Holiday


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The agency's holidays, which the compliance clock does not count as working days."""

    list_display = ["date", "name", "agency"]
    list_filter = ["agency"]
