"""Bounded counting for lists over millions of sessions (SPEC §5: no exact COUNT that scans).

Counting stops at COUNT_CAP matches (`SELECT COUNT(*) FROM (SELECT … LIMIT cap + 1)`), pages stop there too (so no
OFFSET walks past it: page 1000 of an unselective search used to walk 218,626 rows), and the page says "more than"."""
from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


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
    """The API's pages, counted the same bounded way: `count` is exact up to the cap, `count_capped` says more."""

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
