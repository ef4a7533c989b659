"""Paging the admin's big lists (drafts, conversations, messages: 100,000s of rows) at any depth.

Two costs grow with a list: counting it, and reading a page deep in it. An unfiltered list is
counted from Postgres' statistics. A deep page is read as a deferred join: first the page's ids
alone (`ORDER BY … OFFSET n LIMIT 50` on the bare table, which the queue's index answers without
touching the joined tables), then the 50 rows with every joined column the list shows. Reading
the joined columns of all the skipped rows is what made OFFSET slow; now page 500 costs about
what page 1 does. The first page needs no ids query (nothing is skipped), so it stays one query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin import ShowFacets
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """An unfiltered list of a huge table is counted from Postgres' statistics, not COUNT(*)."""

    @cached_property
    def count(self):
        query = self.object_list.query
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [query.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > 10_000:
                return row[0]
        return super().count


class DeferredJoinPaginator(EstimatedCountPaginator):
    """Pages read as a deferred join; `rows` adds what the list shows (annotations, joins) to a page's rows."""

    def __init__(
        self,
        object_list,
        per_page,
        orphans=0,
        allow_empty_first_page=True,
        *,
        rows: Callable[[QuerySet], QuerySet] | None = None,
    ):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.rows = rows or (lambda queryset: queryset)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom == 0:
            return self._get_page(self.rows(self.object_list)[bottom:top], number, self)
        # The ids query keeps the list's filters and order (and only the joins they need); the rows
        # query keeps the order too, so the page reads as the list is sorted.
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.rows(self.object_list.filter(pk__in=ids)), number, self)


class DeferredJoinChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        if isinstance(self.result_list, QuerySet):
            # A list short enough for one page (or "Show all") is not paged: its rows still need the columns.
            self.result_list = self.model_admin.changelist_rows(self.result_list)


class DeferredJoinAdminMixin:
    """For a ModelAdmin whose list is big: deferred-join pages, estimated counts, no per-filter counts.
    `changelist_rows` adds the joined columns the list shows; `get_queryset` keeps to what filters need."""

    paginator = DeferredJoinPaginator
    show_full_result_count = False
    # "Show counts" would count every choice of every filter over the whole table on each view.
    show_facets = ShowFacets.NEVER

    def changelist_rows(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def get_changelist(self, request, **kwargs):
        return DeferredJoinChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        return self.paginator(queryset, per_page, orphans, allow_empty_first_page, rows=self.changelist_rows)
