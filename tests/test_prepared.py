"""Statements compiled once per worker (sessions/services/prepared.py) read what the ORM reads."""
import pytest
from django.db.models import Q

from sessions.models import Session, SessionField
from sessions.services import catalog, prepared, search

pytestmark = pytest.mark.django_db


def test_values_are_the_orms_value_tuples_converted(demo_sessions):
    ids = list(Session.objects.order_by("-start_ms").values_list("pk", flat=True))
    for chosen in (ids, ids[:1], ids[::-1], [*ids[:2], 424242]):
        marks = prepared.stand_ins(len(chosen))
        rows = prepared.values("test-rows", lambda: Session.objects.filter(pk__in=marks).order_by("pk").values_list(
            "pk", "session_key", "split", "completeness"), marks, chosen)
        expected = list(Session.objects.filter(pk__in=chosen).order_by("pk").values_list("pk", "session_key", "split", "completeness"))
        assert rows == expected and all(isinstance(row[2], bool) for row in rows)


def test_parameters_go_to_their_placeholders_in_any_order(demo_sessions):
    marks = ("\x00key", 1, 2)  # compiled as template_id IN (1, 2) AND session_key = …: not in the stand-ins' order
    build = lambda: Session.objects.filter(template_id__in=marks[1:], session_key=marks[0]).values_list("session_key")  # noqa: E731
    template_id = demo_sessions["delivered"].template_id
    assert prepared.values("test-order", build, marks, ["ORD-1001", template_id, template_id]) == [("ORD-1001",)]
    assert prepared.values("test-order", build, marks, ["ORD-1001", 0, 0]) == []


def test_a_queryset_with_parameters_of_its_own_is_refused(demo_sessions):
    with pytest.raises(ValueError, match="parameters of its own"):
        prepared.values("test-own", lambda: Session.objects.filter(pk__in=[1], status="complete").values_list("pk"), [1], [1])


def test_listed_rows_list_what_page_rows_list(demo_sessions):
    from sessions.api.serializers import SessionListSerializer

    ids = list(search.search_queryset().values_list("pk", flat=True))
    for chosen in (ids, ids[::-1], ids[:1], [ids[0], 424242]):
        listed = search.listed_rows(chosen)
        assert [row.pk for row in listed] == [row.pk for row in search.page_rows(chosen)]
        assert SessionListSerializer(listed, many=True).data == SessionListSerializer(search.page_rows(chosen), many=True).data
    assert search.listed_rows([]) == []


@pytest.mark.parametrize("text", ["ORD-1001", "TX-9002", "alipay", "eu", "nothing-like-it", "6"])
def test_the_prepared_q_box_finds_what_the_orm_finds(demo_sessions, text):
    ids = search.resolve_template_ids("")
    names = catalog.catalog(ids).field_names()
    orm = Q(session_key=text) | Q(id__in=SessionField.objects.filter(str_value=text, template_id__in=ids, name__in=names).values("session_id"))
    expected = set(Session.objects.filter(orm).values_list("pk", flat=True))
    assert set(Session.objects.filter(search.q_box_q(ids, text)).values_list("pk", flat=True)) == expected
    assert set(Session.objects.filter(search.q_box_q(ids, text, names[:2])).values_list("pk", flat=True)) <= expected


def test_the_prepared_q_box_is_compiled_per_number_of_templates(demo_sessions):
    from sessions.models import AnalysisTemplate

    AnalysisTemplate.objects.bulk_create([AnalysisTemplate(name="other")])
    ids = search.resolve_template_ids("")
    names = catalog.catalog(ids).field_names()
    assert len(ids) == 2
    for chosen in (ids, ids[:1], ids[1:]):
        found = set(Session.objects.filter(search.q_box_q(chosen, "TX-9002", names)).values_list("session_key", flat=True))
        assert found == ({"ORD-1002"} if demo_sessions["delivered"].template_id in chosen else set())


def test_run_returns_the_rows_and_the_statement_that_read_them(demo_sessions):
    queryset = Session.objects.order_by("-start_ms", "-id").values_list("pk", "split")
    rows, (sql, params) = prepared.run(queryset)
    assert rows == list(queryset) and all(isinstance(split, bool) for _, split in rows)
    assert (sql, params) == (lambda pair: (pair[0], tuple(pair[1])))(queryset.query.sql_with_params())
    assert prepared.run(Session.objects.filter(pk__in=[]).values_list("pk")) == ([], None)
