from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from victim_notify.accounts.audit import record as audit
from victim_notify.surveys.models import Experiment, Participant, Question, Response


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "starts_on", "ends_on", "share_notified", "report_link"]
    list_filter = ["agency"]
    inlines = [QuestionInline]

    def get_urls(self):
        report = self.admin_site.admin_view(self.report_view)
        return [
            path("<int:pk>/report/", report, name="surveys_experiment_report"),
            *super().get_urls(),
        ]

    @admin.display(description="Survey report")
    def report_link(self, experiment: Experiment) -> str:
        url = reverse("admin:surveys_experiment_report", args=[experiment.pk])
        return format_html('<a href="{}">Open the report</a>', url)

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The same page `victim-notify survey report` writes, computed now. It shows only
        figures, never a person; viewing it is still recorded."""
        # The statistics and charting libraries take seconds to import: only here, not in
        # every process that loads the admin.
        from victim_notify.surveys.analysis import analyse
        from victim_notify.surveys.report import to_html

        experiment = get_object_or_404(Experiment, pk=pk)
        if not self.has_view_permission(request, experiment):
            return HttpResponse(status=403)
        audit(
            "survey_report.viewed",
            actor=request.user,
            actor_label=request.user.get_username(),
            agency=experiment.agency,
            target=experiment,
        )
        return HttpResponse(to_html(analyse(experiment)))


class ResponseInline(admin.TabularInline):
    model = Response
    extra = 0
    readonly_fields = ("question_key", "raw", "value", "source", "received_at")
    fields = readonly_fields
    can_delete = False


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    """Assignments are records of what happened: shown, never edited."""

    list_display = ["experiment", "group", "assignment", "division_code", "survey_status"]
    list_filter = ["experiment", "group", "assignment", "survey_status"]
    readonly_fields = [f.name for f in Participant._meta.fields]
    inlines = [ResponseInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
