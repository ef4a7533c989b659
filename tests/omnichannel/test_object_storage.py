"""Object storage (BLOB_BUCKET) for everything the blob store keeps, against a real S3 server process
(moto's standalone server, tests/s3_server.py): retention archives, and a whole deployment's commands
writing nothing under VAR_DIR but the Chroma index. The backup drill on S3 is tests/omnichannel/test_backup_drill.py."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assistants.services import draft_generate
from conversations.models import Approval, Conversation, Message
from conversations.services.approvals import draft_edit_and_approve
from conversations.services.retention import archive_document
from integrations.demo import seed_demo
from omnichannel.blobstore import blob_get

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_an_archived_conversation_is_kept_in_the_bucket_and_restored_from_it(s3_blob_store, s3_server):
    seed_demo()
    message = Message.objects.get(subject="Where is my tent?")
    draft = draft_generate(message_id=message.pk).draft
    agent = get_user_model().objects.get(username="agent")
    draft_edit_and_approve(draft_id=draft.pk, acting_user=agent, final_text="Hi Ada, UPS 1Z999AA10123456784 today.")
    conversation = message.conversation
    Conversation.objects.filter(pk=conversation.pk).update(status="closed", closed_at=timezone.now() - timedelta(days=600))
    before = list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body", "from_address"))

    call_command("archive_conversations", "--execute")

    key = Conversation.objects.get(pk=conversation.pk).archive_blob_key
    assert key == f"archives/conversations/{conversation.pk}.fernet"  # encrypted at rest
    assert key in s3_server.keys(s3_blob_store)
    assert b"1Z999AA10123456784" not in blob_get(key)
    assert archive_document(key)["approvals"][0]["final_text"] == "Hi Ada, UPS 1Z999AA10123456784 today."
    assert not Path(settings.BLOB_ROOT).exists()  # nothing fell back to the filesystem store
    call_command("restore_conversation", str(conversation.pk))
    assert list(Message.objects.filter(conversation=conversation).order_by("pk").values("pk", "body", "from_address")
                ) == before
    assert Approval.objects.get(draft__conversation=conversation).final_text.startswith("Hi Ada")


def _manage(*args: str, env: dict) -> None:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"


@pytest.mark.django_db(transaction=True)
def test_with_a_bucket_nothing_but_the_chroma_index_is_written_under_var_dir(tmp_path, s3_blob_store, s3_server):
    if connection.vendor != "postgresql":
        pytest.skip("backup_db needs Postgres")
    # Processes configured from the environment alone, as a web or worker container is (docker-compose.yml):
    # only VAR_DIR and the bucket; CHROMA_PATH and BLOB_ROOT take their defaults under VAR_DIR.
    var_dir = tmp_path / "var"
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BLOB_", "CHROMA_", "AWS_"))}
    env.update(s3_server.env(s3_blob_store), VAR_DIR=str(var_dir), SYNC_USE_CELERY="0", LOG_LEVEL="WARNING",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}")

    _manage("seed_demo", env=env)  # attachments, the site's HTML snapshots, the Chroma index
    Conversation.objects.filter(pk=Conversation.objects.order_by("pk").first().pk).update(
        status="closed", closed_at=timezone.now() - timedelta(days=600))
    _manage("archive_conversations", "--execute", env=env)
    _manage("mine_demand", env=env)
    _manage("publish_faq", "--force", env=env)
    _manage("backup_db", env=env)

    written = sorted(str(p.relative_to(var_dir)) for p in var_dir.rglob("*") if p.is_file())
    assert written, "the Chroma index should be on disk"
    assert [path for path in written if not path.startswith("chroma/")] == []
    prefixes = {key.split("/", 1)[0] for key in s3_server.keys(s3_blob_store)}
    assert {"attachments", "site", "archives", "reports", "backups", "faq-pages"} <= prefixes
