from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        # omnichannel evaluates alerts and serves metrics but imports no app: the drafts' are registered here
        # (at app loading: these modules import models, which exist only once the registry is ready).
        from conversations.metrics import oldest_customer_wait_gauges
        from conversations.monitoring import drafts_alerts, drafts_gauges
        from omnichannel.alerts import alert_check_register
        from omnichannel.metrics_view import database_gauges_register

        alert_check_register("conversations.drafts", drafts_alerts)
        database_gauges_register("conversations.drafts", drafts_gauges)
        database_gauges_register("conversations.oldest_wait", oldest_customer_wait_gauges)
