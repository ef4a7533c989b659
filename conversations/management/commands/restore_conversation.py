"""Put an archived conversation's content back from its blob."""

from django.core.management.base import BaseCommand, CommandError

from conversations.models import Conversation
from conversations.services.retention import conversation_restore
from omnichannel.errors import ApplicationError


class Command(BaseCommand):
    help = "Restore an archived conversation's messages, drafts and approvals from the blob store."

    def add_arguments(self, parser):
        parser.add_argument("conversation_id", type=int)

    def handle(self, *args, conversation_id, **options):
        try:
            restored = conversation_restore(conversation_id=conversation_id)
        except (ApplicationError, Conversation.DoesNotExist) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        self.stdout.write(f"restored conversation {conversation_id} ({restored} messages)")
