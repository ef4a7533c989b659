from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        # omnichannel evaluates alerts and serves metrics but imports no app: the drafts' are registered here
        # (at app loading: these modules import models, which exist only once the registry is ready).
        from conversations.metrics import oldest_customer_wait_gauges
        from conversations.monitoring import drafts_alerts, drafts_gauges
        from conversations.selectors import guest_open_drafts
        from conversations.services.erasure import (
            conversations_erase_customer,
            conversations_export_customer,
            conversations_find_customer,
        )
        from customers.parts import erasure_part_register, export_part_register, guest_open_drafts_register
        from omnichannel.alerts import alert_check_register
        from omnichannel.metrics_view import database_gauges_register

        alert_check_register("conversations.drafts", drafts_alerts)
        database_gauges_register("conversations.drafts", drafts_gauges)
        database_gauges_register("conversations.oldest_wait", oldest_customer_wait_gauges)
        # A customer's erasure, her data export and a guest's summary reach her conversations (customers/parts.py).
        erasure_part_register("conversations", find=conversations_find_customer, erase=conversations_erase_customer)
        export_part_register("conversations", conversations_export_customer)
        guest_open_drafts_register(guest_open_drafts)
