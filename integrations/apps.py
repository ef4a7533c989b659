from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # App loading: these modules import models, which exist only once the registry is ready.
        from conversations.channels import channel_sender_register
        from integrations import checks  # noqa: F401 (registers the system checks)
        from integrations.monitoring import shopify_cursor_alerts, shopify_cursor_gauges
        from integrations.zoho.sending import zoho_reply_send
        from omnichannel.alerts import alert_check_register
        from omnichannel.metrics_view import database_gauges_register

        # omnichannel evaluates alerts and serves metrics but imports no app: the Shopify cursors' are registered here.
        alert_check_register("integrations.shopify_cursors", shopify_cursor_alerts)
        database_gauges_register("integrations.shopify_cursors", shopify_cursor_gauges)
        # conversations sends approved drafts but imports no channel's client: replies by email go through Zoho.
        channel_sender_register("email", zoho_reply_send)
