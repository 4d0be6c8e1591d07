"""What Twilio calls us with: messages people send to an agency's number, and status callbacks
for messages we sent. Both are checked against X-Twilio-Signature with the SDK's own
RequestValidator, over the URL Twilio was given (VN_PUBLIC_URL, so it holds behind a proxy);
a request that fails the check gets 403 and nothing is stored."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from victim_notify.messages.delivery import record_status
from victim_notify.replies.inbound import receive

log = logging.getLogger(__name__)


def _genuine(request: HttpRequest) -> bool:
    if not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PUBLIC_URL + request.get_full_path()
    params = {key: request.POST.get(key, "") for key in request.POST}
    signature = request.headers.get("X-Twilio-Signature", "")
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """A text to one of the agencies' numbers. Answers are sent through the outbox (so each is
    recorded and retried like any message); the TwiML reply itself is empty."""
    if not _genuine(request):
        log.warning("inbound webhook with a bad signature")
        return HttpResponseForbidden("signature check failed")
    form = request.POST
    receive(
        channel="sms",
        to_address=form.get("To", ""),
        from_address=form.get("From", ""),
        body=form.get("Body", ""),
        provider="twilio",
        provider_message_id=form.get("MessageSid", "") or form.get("SmsSid", ""),
        provider_answered=form.get("OptOutType", ""),
    )
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest, notification_id: str) -> HttpResponse:
    if not _genuine(request):
        log.warning("status callback with a bad signature")
        return HttpResponseForbidden("signature check failed")
    form = request.POST
    record_status(
        source="twilio",
        notification_id=notification_id,
        provider="twilio",
        provider_message_id=form.get("MessageSid", ""),
        provider_status=form.get("MessageStatus", "") or form.get("SmsStatus", ""),
        error_code=form.get("ErrorCode", ""),
        detail=form.get("ErrorMessage", ""),
    )
    return HttpResponse(status=204)
