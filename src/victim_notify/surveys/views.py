"""The survey as a web form: the same questions, for email recipients and anyone who prefers
a page to texting. The link's key names the participant; there is nothing else to log in with,
and the page shows no personal data, only the report number the survey is about."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from victim_notify.surveys.conversation import take_web_answers
from victim_notify.surveys.models import Participant, Question, QuestionKind, SurveyStatus

# How the form names each option; an option without a name here shows its key.
OPTION_LABELS = {
    "text": gettext_lazy("Text message"),
    "email": gettext_lazy("Email"),
    "letter": gettext_lazy("Mailed letter"),
    "phone": gettext_lazy("Phone call"),
}


def _choices(question: Question) -> list[tuple[str, str]]:
    if question.kind == QuestionKind.CHOICE:
        return [(key, str(OPTION_LABELS.get(key, key))) for key in question.options]
    if question.kind == QuestionKind.YES_NO:
        return [("yes", _("Yes")), ("no", _("No"))]
    labels = {"1": _("1 – lowest"), "5": _("5 – highest")}
    scale = [(str(n), labels.get(str(n), str(n))) for n in range(1, 6)]
    return scale + ([("yes", _("Yes")), ("no", _("No"))] if question.also_yes_no else [])


def survey_form(request: HttpRequest, key: str) -> HttpResponse:
    participant = (
        Participant.objects.select_related("experiment__agency", "report")
        .filter(web_key=key)
        .first()
    )
    if participant is None or participant.survey_status == SurveyStatus.OFF:
        raise Http404
    agency = participant.experiment.agency
    language = participant.language or agency.default_language
    with translation.override(language):
        questions = list(participant.experiment.questions.all())
        given = dict(participant.responses.exclude(value="").values_list("question_key", "value"))
        done = participant.survey_status in {SurveyStatus.COMPLETED, SurveyStatus.STOPPED}
        errors: list[str] = []
        if request.method == "POST" and not done:
            answers = {}
            for question in questions:
                value = request.POST.get(question.key, "")
                allowed = {v for v, _label in _choices(question)}
                if value and value not in allowed:
                    errors.append(question.key)
                elif value:
                    answers[question.key] = value
            if not errors:
                take_web_answers(participant, answers, timezone.now())
                return render(
                    request,
                    "surveys/thanks.html",
                    {"agency": agency, "language": language},
                )
        items = [
            {
                "key": q.key,
                "text": q.web_text(language).replace("{agency}", agency.name),
                "choices": _choices(q),
                "given": request.POST.get(q.key) if request.method == "POST" else given.get(q.key),
                "invalid": q.key in errors,
            }
            for q in questions
        ]
        return render(
            request,
            "surveys/form.html",
            {
                "agency": agency,
                "language": language,
                "report_number": participant.report.report_number if participant.report else "",
                "questions": items,
                "done": done,
            },
        )
