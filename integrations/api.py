"""API of site documents: Ops add a page or sitemap URL, re-crawl one now, remove one (its chunks leave
the site index), and see each one's last crawl, status and chunk count; every write through
integrations/site/documents.py, as in the admin."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from integrations.models import SiteDocument
from integrations.site.documents import site_document_add, site_document_recrawl_request, site_document_remove
from omnichannel.api_common import GroupModelPermissions, MethodCheckedFirst


class SiteDocumentOut(serializers.ModelSerializer):
    class Meta:
        model = SiteDocument
        fields = [
            "id",
            "url",
            "kind",
            "parent",
            "status",
            "last_crawled_at",
            "chunk_count",
            "last_error",
            "etag",
            "last_modified",
            "content_sha256",
            "created_at",
        ]


class SiteDocumentIn(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    kind = serializers.ChoiceField(choices=SiteDocument.Kind.choices, default=SiteDocument.Kind.PAGE)


class CanRecrawl(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("integrations.change_sitedocument"))


class SiteDocumentViewSet(
    MethodCheckedFirst, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet
):
    """POST adds a URL and queues its first crawl (409 when it is already a document); `recrawl` queues a
    crawl now (202; 409 for a removed one); DELETE removes it: its chunks leave the index, the row stays
    with status `removed` and may be added again."""

    permission_classes = [GroupModelPermissions]
    queryset = SiteDocument.objects.all()
    serializer_class = SiteDocumentOut
    filterset_fields = ["status", "kind", "parent"]
    http_method_names = ["get", "post", "delete", "head", "options"]

    @extend_schema(request=SiteDocumentIn, responses={201: SiteDocumentOut})
    def create(self, request, *args, **kwargs):
        data = SiteDocumentIn(data=request.data)
        data.is_valid(raise_exception=True)
        document = site_document_add(**data.validated_data, acting_user=request.user)
        return Response(SiteDocumentOut(document).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        site_document_remove(document_id=self.get_object().pk, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: SiteDocumentOut})
    @action(detail=True, methods=["post"], permission_classes=[CanRecrawl])
    def recrawl(self, request, pk=None):
        document = site_document_recrawl_request(document_id=self.get_object().pk, acting_user=request.user)
        return Response(SiteDocumentOut(document).data, status=status.HTTP_202_ACCEPTED)
