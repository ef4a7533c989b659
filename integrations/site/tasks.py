"""Celery tasks of this provider (names are contracts: see ARCHITECTURE.md)."""
