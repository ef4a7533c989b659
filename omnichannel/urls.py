from django.contrib import admin
from django.urls import include, path

from faq.views import faq_page
from integrations.shopify.webhooks import shopify_webhook
from integrations.zoho.webhooks import zoho_webhook
from omnichannel import health
from omnichannel.favicon import favicon
from omnichannel.metrics_view import metrics

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("webhooks/zoho/", zoho_webhook, name="webhook-zoho"),
    path("webhooks/shopify/", shopify_webhook, name="webhook-shopify"),
    path("metrics", metrics, name="metrics"),
    path("api/", include("omnichannel.api_urls")),
    path("faq/", faq_page, name="faq"),
    path("favicon.ico", favicon, name="favicon"),
]
