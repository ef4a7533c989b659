from django.http import HttpResponse
from django.views.decorators.http import require_GET

from faq.selectors import faq_page_render


@require_GET
def faq_page(request):
    html, _, _ = faq_page_render()
    head = "<!doctype html><html><head><meta charset='utf-8'><title>FAQ</title></head>"
    return HttpResponse(f"{head}<body>{html}</body></html>")
