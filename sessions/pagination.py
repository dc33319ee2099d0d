"""Pagination for lists over millions of sessions (SPEC §5, issue 12): no exact COUNT that scans, no OFFSET that walks.

Sessions (API and search page) page by keyset cursor (services/paging.py) with a count bounded in rows and time;
the smaller lists (dead letters, job runs, studio) keep numbered pages, counted up to LUNA_COUNT_CAP."""
from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from .services import paging
from .services.counting import AT_LEAST, ESTIMATE, EXACT, MORE_THAN

CURSOR_PARAM = "cursor"
CURSOR_HELP = ("Opaque position from a response's `next` / `previous` link (sort key and id of the row it follows): "
               "pages are read by keyset, so a deep page costs what the first does. Omit for the first page.")


class BoundedPaginator(Paginator):
    """A Paginator whose count is min(matches, cap + 1): `capped` says the real number is larger."""

    @cached_property
    def count(self) -> int:
        cap = settings.LUNA_COUNT_CAP
        return self.object_list[: cap + 1].count() if hasattr(self.object_list, "count") else len(self.object_list)

    @property
    def capped(self) -> bool:
        return self.count > settings.LUNA_COUNT_CAP

    @cached_property
    def num_pages(self) -> int:
        shown = min(self.count, settings.LUNA_COUNT_CAP)
        return max(1, -(-shown // self.per_page))


class BoundedPageNumberPagination(PageNumberPagination):
    """The API's numbered pages, counted the same bounded way: `count` is exact up to the cap, `count_capped` says more."""

    django_paginator_class = BoundedPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response({
            "count": min(paginator.count, settings.LUNA_COUNT_CAP), "count_capped": paginator.capped,
            "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data,
        })

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_capped"] = {"type": "boolean", "description": "More matches than `count` (the cap)."}
        return response


class KeysetPagination(BasePagination):
    """The sessions API: keyset pages by `cursor`; `count` with `count_kind` exact, more_than (the cap), at_least or
    estimate (the time limit stopped counting: the rows up to this page exist / an extrapolation)."""

    page_size = paging.SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        try:
            self.window = paging.window(queryset, request.query_params.get(CURSOR_PARAM), self.page_size)
        except paging.BadCursor as error:
            raise ValidationError({CURSOR_PARAM: [str(error)]}) from error
        return self.window.rows

    def link(self, cursor: paging.Cursor | None, token: str) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, CURSOR_PARAM, token) if token else remove_query_param(url, CURSOR_PARAM)

    def get_paginated_response(self, data):
        count = self.window.count
        return Response({
            "count": count.value, "count_kind": count.kind, "count_capped": count.kind == MORE_THAN,
            "position": self.window.position, "next": self.link(self.window.next, self.window.next_token),
            "previous": self.link(self.window.previous, self.window.previous_token), "results": data,
        })

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object", "required": ["count", "count_kind", "results"],
            "properties": {
                "count": {"type": "integer", "description": "Matches: exact, or a bound as `count_kind` says."},
                "count_kind": {"type": "string", "enum": [EXACT, MORE_THAN, AT_LEAST, ESTIMATE],
                               "description": f"{EXACT}: the number of matches; {MORE_THAN}: more than `count` (the cap, "
                                              f"LUNA_COUNT_CAP); {AT_LEAST}: counting stopped at its time limit "
                                              f"(LUNA_COUNT_TIME_MS), at least `count` match; {ESTIMATE}: counting stopped, "
                                              "`count` is extrapolated from the newest page's density over the matches' "
                                              "time span (never below what exists)."},
                "count_capped": {"type": "boolean", "description": "Same as count_kind == more_than (kept for older clients)."},
                "position": {"type": "integer", "description": "Matches before this page's first row."},
                "next": {"type": "string", "nullable": True, "format": "uri", "description": "The next page (a `cursor` link)."},
                "previous": {"type": "string", "nullable": True, "format": "uri", "description": "The page before."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [{"name": CURSOR_PARAM, "required": False, "in": "query", "description": CURSOR_HELP, "schema": {"type": "string"}}]


class KeysetPageMixin:
    """For list views over sessions: the same keyset window as the API, as `page_obj` (rows, cursors, count)."""

    def paginate_queryset(self, queryset, page_size):
        try:
            window = paging.window(queryset, self.request.GET.get(CURSOR_PARAM), page_size)
        except paging.BadCursor as error:
            raise BadRequest(str(error)) from error
        return None, window, window.rows, window.next is not None or window.previous is not None
