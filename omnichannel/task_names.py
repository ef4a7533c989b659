"""Every Celery task's name, in one place: tasks are registered under these, and queued, routed,
scheduled and audited by them, so "go to definition" on a name lands here and a typo fails at import.

Domain apps must not import `assistants` or `integrations` (the layers, pyproject.toml's
import-linter contracts), so they set work off there with `omnichannel.jobs.enqueue(TaskName.X, ...)`;
each name's comment says where its task lives. The README's task table (task, module, queue,
schedule) is checked against the registered tasks by tests/omnichannel/test_task_names.py.

The values are contracts: they are in Redis (queued tasks), in django-celery-beat's rows and in
dead letters, so renaming one needs the old name kept registered until those have drained.
"""

from __future__ import annotations


class TaskName:
    # omnichannel/tasks.py
    CHECK_ALERTS = "check_alerts"
    BACKUP_DB = "backup_db"
    # customers/tasks.py
    REFRESH_CUSTOMER_SUMMARY = "refresh_customer_summary"
    EXPORT_DATA_REQUEST = "export_data_request"
    EXPIRE_DATA_EXPORTS = "expire_data_exports"
    ERASE_SHOP_CUSTOMERS = "erase_shop_customers"
    # catalog/tasks.py
    MINE_DEMAND = "mine_demand"
    # conversations/tasks.py
    ENSURE_DRAFTS = "ensure_drafts"
    AUTO_CLOSE_CONVERSATIONS = "auto_close_conversations"
    ARCHIVE_CONVERSATIONS = "archive_conversations"
    # faq/tasks.py
    APPLY_CORRECTIONS = "apply_corrections"
    PROPOSE_FAQ = "propose_faq"
    # assistants/tasks.py
    GENERATE_DRAFT = "generate_draft"
    INDEX_APPROVED_REPLY = "index_approved_reply"
    FORGET_APPROVED_REPLIES = "forget_approved_replies"
    # conversations/tasks.py (senders: conversations/channels.py)
    SEND_DRAFT = "send_draft"
    ENSURE_SENT = "ensure_sent"
    # integrations/intake.py, integrations/replay.py
    DRAIN_WEBHOOK_DELIVERIES = "drain_webhook_deliveries"
    REPLAY_STALLED_DELIVERIES = "replay_stalled_deliveries"
    # integrations/zoho/tasks.py
    PROCESS_INCOMING_EMAIL = "process_incoming_email_task"
    ZOHO_SYNC = "zoho_sync"
    # integrations/shopify/tasks.py
    PROCESS_SHOPIFY_EVENT = "process_shopify_event_task"
    SHOPIFY_BACKFILL = "shopify_backfill"
    REBUILD_FAQ_PAGE = "rebuild_faq_page"
    # integrations/site/tasks.py
    CRAWL_SITE_DOCUMENTS = "crawl_site_documents"


TASK_NAMES: frozenset[str] = frozenset(value for key, value in vars(TaskName).items() if key.isupper())


def task_name_check(task_name: str) -> str:
    """The name itself, or ValueError when it is not one of ours (a typo, or a task removed)."""
    if task_name not in TASK_NAMES:
        raise ValueError(f"unknown task name {task_name!r}: task names live in omnichannel/task_names.py")
    return task_name
