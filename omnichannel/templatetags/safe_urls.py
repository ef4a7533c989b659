"""`{% load safe_urls %}` … `{{ value|http_url }}`: a link from stored data, or "" unless it is http(s)."""

from django import template

from omnichannel.safe_urls import http_url as _http_url

register = template.Library()


@register.filter
def http_url(value) -> str:
    return _http_url(value)
