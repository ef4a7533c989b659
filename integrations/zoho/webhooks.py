"""POST /webhooks/zoho/: verify, store the raw delivery, answer, process after commit.

Zoho's outgoing webhook is authenticated by `X-Hook-Signature` (base64 HMAC-SHA256 of the raw
body keyed with ZOHO_WEBHOOK_SECRET) or, for setups without signing, `?token=<secret>`; both are
compared in constant time. A bad or missing credential answers 401 and stores nothing. A body
over the limit is checked the same way, then kept as a failed delivery and answered 413
(see integrations/webhooks_common.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.webhooks_common import (
    body_too_big,
    body_too_big_to_keep,
    delivery_accept,
    kept_headers,
    oversized_body_read,
    oversized_store,
    signature_matches,
    too_large_refused,
)
from integrations.zoho.ingest import zoho_payload_parse
from omnichannel.errors import InvalidPayload
from omnichannel.metrics import webhook_deliveries_total


def signature_valid(body: bytes, signature: str, token: str) -> bool:
    secret = settings.ZOHO_WEBHOOK_SECRET.encode()
    if signature:
        expected = base64.b64encode(hmac.digest(secret, body, "sha256")).decode()
        return signature_matches(expected, signature)
    return bool(token) and hmac.compare_digest(token.encode("utf-8", "replace"), secret)


def _message_id(value) -> str:
    """The delivery's key: Zoho's numeric id (a JSON number, or its digits as a string). A list, an
    object, true or a float came out as "[1]", "True" or "nan": keys no mail has, and every NaN one key."""
    if value is None or value == "":
        raise InvalidPayload("field 'messageId' is required")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidPayload(f"field 'messageId' must be a string or an integer, not {type(value).__name__}")
    return str(value)


@csrf_exempt
@require_POST
def zoho_webhook(request):
    too_big = body_too_big(request)
    if too_big and body_too_big_to_keep(too_big):
        return too_large_refused(source="zoho", size=too_big)
    body = oversized_body_read(request) if too_big else request.body
    if not signature_valid(body, request.headers.get("X-Hook-Signature", ""), request.GET.get("token", "")):
        webhook_deliveries_total.labels(source="zoho", status="unauthorized").inc()
        return JsonResponse({"error": "invalid signature"}, status=401)
    if too_big:
        # Not parsed (that is what the limit spares us): keyed by its hash, so a redelivery is one row.
        return oversized_store(source="zoho", topic="mail.incoming", headers=kept_headers(request), body=body,
                               external_id="oversized-" + hashlib.sha256(body).hexdigest())
    invalid = ""
    try:
        payload = zoho_payload_parse(body)
        external_id = _message_id(payload.get("messageId"))
    except InvalidPayload as exc:
        invalid = exc.message
        external_id = "invalid-" + hashlib.sha256(body).hexdigest()
    return delivery_accept(source="zoho", topic="mail.incoming", external_id=external_id,
                           headers=kept_headers(request), body=body, invalid_reason=invalid)
