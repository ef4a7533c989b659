"""Django's Redis and local-memory caches, counting gets, hits and misses with django-prometheus's metrics.

Why not django-prometheus's own backends: in 2.5.0 `django_prometheus.cache.backends.redis` imports
django-redis at module level (both its classes, even `NativeRedisCache` over Django's client), and
django-redis is not a dependency of ours; its `locmem.LocMemCache` returns `cached or default`, so a
stored 0, "" or False comes back as the default. These keep Django's behaviour exactly and export the
same series (`django_cache_get_total{backend}`, `..._hits_total`, `..._misses_total`, `..._fail_total`).
"""

from __future__ import annotations

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

_MISSING = object()


class _MeteredGet:
    metrics_backend = ""

    def get(self, key, default=None, version=None):
        django_cache_get_total.labels(backend=self.metrics_backend).inc()
        try:
            value = super().get(key, _MISSING, version=version)
        except Exception:
            django_cache_get_fail_total.labels(backend=self.metrics_backend).inc()
            raise
        if value is _MISSING:
            django_cache_misses_total.labels(backend=self.metrics_backend).inc()
            return default
        django_cache_hits_total.labels(backend=self.metrics_backend).inc()
        return value


class MeteredRedisCache(_MeteredGet, RedisCache):
    metrics_backend = "redis"


class MeteredLocMemCache(_MeteredGet, LocMemCache):
    metrics_backend = "locmem"
