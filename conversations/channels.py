"""The channels replies go out through, by `Message.channel` ("email": Zoho Mail).

conversations sends approved drafts (conversations/tasks.py: send_draft) but may not import the channels'
clients (the layers in pyproject.toml): each channel's sender is registered from its app's
AppConfig.ready (integrations/apps.py). A sender takes the claimed reply and returns (the channel's
message id, the address it was sent from); it raises omnichannel.errors.ChannelError, whose flags
(permanent, refused, maybe_sent) decide what the send task does, and nothing else for a failure it
can classify.
"""

from __future__ import annotations

from collections.abc import Callable

from conversations.services.sending import OutboundReply

ChannelSender = Callable[[OutboundReply], tuple[str, str]]

_senders: dict[str, ChannelSender] = {}


def channel_sender_register(channel: str, sender: ChannelSender) -> None:
    """Once per channel, at app loading; registering the same sender again (a re-run ready) is harmless."""
    if _senders.get(channel, sender) is not sender:
        raise ValueError(f"a sender for channel {channel!r} is already registered: {_senders[channel]!r}")
    _senders[channel] = sender


def channel_sender(channel: str) -> ChannelSender | None:
    return _senders.get(channel)
