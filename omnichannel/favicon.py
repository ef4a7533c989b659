"""`/favicon.ico`: browsers ask for it on every admin page, whatever the page links; a 404 each time filled
the logs. The icon is the static file (static/favicon.ico), answered here so it needs no collectstatic run."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


@require_safe
def favicon(request: HttpRequest) -> FileResponse:
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    patch_cache_control(response, public=True, max_age=7 * 24 * 3600)  # asked once a week, not per page
    return response
