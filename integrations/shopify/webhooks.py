"""POST /webhooks/shopify/: verify the HMAC, store the raw delivery, answer 200, process after commit.

`X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body keyed with the app's client
secret; after a rotation Shopify may sign with the previous secret for up to an hour, so both
are tried, in constant time, the previous one only until SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL.
Header names are case-insensitive and newer deliveries may drop the `X-` prefix.
https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-2-validate-the-origin-of-your-webhook
A body over the limit is verified the same way, then kept as a failed delivery and answered 413
(see integrations/webhooks_common.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.shopify.topics import topic_mismatch
from integrations.webhooks_common import (
    body_too_big,
    body_too_big_to_keep,
    delivery_accept,
    header_problem,
    header_text,
    kept_headers,
    oversized_body_read,
    oversized_store,
    signature_matches,
    too_large_refused,
)
from omnichannel.errors import InvalidPayload
from omnichannel.json_input import json_parse
from omnichannel.metrics import webhook_deliveries_total


def shopify_header(request, name: str) -> str:
    """`X-Shopify-Topic` or `Shopify-Topic`, in any case."""
    return request.headers.get(f"X-Shopify-{name}") or request.headers.get(f"Shopify-{name}") or ""


def _secrets() -> list[str]:
    """The current secret, and the previous one until SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL (never without it)."""
    until = settings.SHOPIFY_WEBHOOK_SECRET_PREVIOUS_UNTIL
    rotating = until is not None and timezone.now() < until
    return [s for s in (settings.SHOPIFY_WEBHOOK_SECRET, settings.SHOPIFY_WEBHOOK_SECRET_PREVIOUS if rotating else "")
            if s]


def hmac_valid(body: bytes, signature: str) -> bool:
    if not signature:
        return False
    secrets = _secrets()
    valid = False
    for secret in secrets:  # check every secret, so the time taken does not say which one matched
        expected = base64.b64encode(hmac.digest(secret.encode(), body, "sha256")).decode()
        valid |= signature_matches(expected, signature)
    return valid


@csrf_exempt
@require_POST
def shopify_webhook(request):
    too_big = body_too_big(request)
    if too_big and body_too_big_to_keep(too_big):
        return too_large_refused(source="shopify", size=too_big)
    body = oversized_body_read(request) if too_big else request.body
    if not hmac_valid(body, shopify_header(request, "Hmac-Sha256")):
        webhook_deliveries_total.labels(source="shopify", status="unauthorized").inc()
        return JsonResponse({"error": "invalid HMAC signature"}, status=401)
    topic, webhook_id = shopify_header(request, "Topic"), shopify_header(request, "Webhook-Id")
    # Kept with the bad characters replaced (never lost to a 503), and refused below naming the header.
    bad_header = header_problem("X-Shopify-Topic", topic) or header_problem("X-Shopify-Webhook-Id", webhook_id)
    topic, webhook_id = header_text(topic), header_text(webhook_id) or "body-" + hashlib.sha256(body).hexdigest()
    headers = kept_headers(request, ("x-shopify-", "shopify-"))
    if too_big:
        return oversized_store(source="shopify", topic=topic, external_id=webhook_id, headers=headers, body=body)
    invalid = bad_header
    try:
        data = json_parse(body)
        # Only the body is signed: a genuine body sent again under another topic header is refused here.
        invalid = invalid or (topic_mismatch(topic, data) if isinstance(data, dict) else "body must be a JSON object")
    except InvalidPayload as exc:  # not JSON, or nested too deep
        invalid = invalid or exc.message
    return delivery_accept(source="shopify", topic=topic, external_id=webhook_id, headers=headers, body=body,
                           invalid_reason=invalid)
