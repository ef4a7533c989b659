"""Replying in a Zoho thread: the channel call the approval flow makes (through `send_draft`)."""

from __future__ import annotations

from django.conf import settings

from conversations.services.sending import OutboundReply
from integrations.zoho.client import ZohoClient, ZohoError


def zoho_reply_send(reply: OutboundReply, *, client: ZohoClient | None = None) -> tuple[str, str]:
    """Reply to the inbound message (`action: reply`, so Zoho sets In-Reply-To and References
    from the original and keeps the thread). Returns (Zoho message id, our from address)."""
    if not reply.reply_to_external_id:
        raise ZohoError(f"draft {reply.draft_id} answers no Zoho message; nothing to reply to")
    from_address = settings.ZOHO_OWN_ADDRESSES[0]
    client = client or ZohoClient.from_settings()
    message_id = client.message_reply(message_id=reply.reply_to_external_id, from_address=from_address,
                                      to_address=reply.to_address, subject=reply.subject, content=reply.text,
                                      mail_format="plaintext")
    return message_id, from_address
