"""/api/: one router for every app's viewsets, the read models, the schema and its docs (all need a login)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from assistants.api import ModelQualityCalibrationView, ModelQualityTriageView, ModelQualityView, ModelRunViewSet
from catalog.api import InventoryItemViewSet, ProductRequestViewSet
from conversations.api import ApprovalViewSet, ConversationViewSet, DraftViewSet
from customers.api import CustomerSummaryByEmailView, CustomerSummaryView, CustomerViewSet, OrderViewSet
from faq.api import CorrectionViewSet, FaqEntryViewSet, FaqProposalViewSet
from integrations.api import SiteDocumentViewSet
from omnichannel.api import AuditLogViewSet

router = DefaultRouter()
router.register("conversations", ConversationViewSet)
router.register("drafts", DraftViewSet)
router.register("approvals", ApprovalViewSet)
router.register("customers", CustomerViewSet)
router.register("orders", OrderViewSet)
router.register("inventory_items", InventoryItemViewSet)
router.register("product_requests", ProductRequestViewSet)
router.register("faq_entries", FaqEntryViewSet)
router.register("corrections", CorrectionViewSet)
router.register("faq_proposals", FaqProposalViewSet)
router.register("site_documents", SiteDocumentViewSet)
router.register("model_runs", ModelRunViewSet)
router.register("audit_log", AuditLogViewSet)

urlpatterns = [
    path("customer_summary/", CustomerSummaryByEmailView.as_view(), name="customer-summary-by-email"),
    path("customer_summary/<int:customer_id>/", CustomerSummaryView.as_view(), name="customer-summary"),
    path("model_quality/", ModelQualityView.as_view(), name="model-quality"),
    path("model_quality/triage/", ModelQualityTriageView.as_view(), name="model-quality-triage"),
    path("model_quality/calibration/", ModelQualityCalibrationView.as_view(), name="model-quality-calibration"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    *router.urls,
]
