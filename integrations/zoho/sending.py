"""Replying in a Zoho thread: the "email" channel's sender (conversations/channels.py), which the
send_draft task calls for an approved draft."""

from __future__ import annotations

import requests
from django.conf import settings

from conversations.services.sending import OutboundReply
from integrations.zoho.client import ZohoClient, ZohoError, never_connected


def zoho_reply_send(reply: OutboundReply, *, client: ZohoClient | None = None) -> tuple[str, str]:
    """Reply to the inbound message (`action: reply`, so Zoho sets In-Reply-To and References
    from the original and keeps the thread). Returns (Zoho message id, our from address).
    Every failure the client can tell apart leaves as a ZohoError (a ChannelError)."""
    if not reply.reply_to_external_id:
        raise ZohoError(f"draft {reply.draft_id} answers no Zoho message; nothing to reply to")
    from_address = settings.ZOHO_OWN_ADDRESSES[0]
    client = client or ZohoClient.from_settings()
    try:
        message_id = client.message_reply(message_id=reply.reply_to_external_id, from_address=from_address,
                                          to_address=reply.to_address, subject=reply.subject, content=reply.text,
                                          mail_format="plaintext")
    except requests.RequestException as exc:
        # The client lets through only a request that never left (a POST is not repeated once it may have
        # reached Zoho: it becomes a maybe_sent ZohoError there); anything else is treated as maybe sent.
        raise ZohoError(f"{type(exc).__name__}: {exc}", permanent=False, refused=never_connected(exc),
                        maybe_sent=not never_connected(exc)) from exc
    return message_id, from_address
