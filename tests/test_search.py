"""SessionFilterSet: the one search definition behind the console page and GET /api/sessions/."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings, strategies as st

from sessions.filters import DeadLetterFilterSet, SessionFilterSet
from sessions.models import AnalysisTemplate, DeadLetter
from sessions.services.search import as_number, parse_min_duration_ms, search_queryset, to_epoch_ms

from tests.factories import SessionSpec, make_session, payment_events

pytestmark = pytest.mark.django_db


def keys(**params) -> list[str]:
    filterset = SessionFilterSet(params, queryset=search_queryset())
    assert filterset.is_valid(), filterset.errors
    return [s.session_key for s in filterset.qs]


def errors(**params) -> dict:
    filterset = SessionFilterSet(params, queryset=search_queryset())
    assert not filterset.is_valid()
    return filterset.errors


def test_default_order_is_newest_first(demo_sessions):
    assert keys() == ["ORD-1005", "ORD-1005", "ORD-1004", "ORD-1003", "ORD-1002", "ORD-1001"]


def test_it_finds_a_session_by_exact_key(demo_sessions):
    assert keys(key="ORD-1002") == ["ORD-1002"]
    assert keys(key="ORD-100") == []


def test_it_finds_by_string_field_value(demo_sessions):
    assert keys(field="trans_id", value="TX-9003") == ["ORD-1003"]
    assert keys(field="channel", value="alipay") == ["ORD-1003", "ORD-1001"]


def test_it_finds_by_numeric_field_value_whatever_the_spelling(demo_sessions):
    assert keys(field="amount_value", value="6") == ["ORD-1001"]
    assert keys(field="amount_value", value="6.0") == ["ORD-1001"]
    assert keys(field="amount_value", value="6.5") == ["ORD-1003"]
    assert keys(field="deliveries", value="2") == ["ORD-1002"]


def test_a_field_value_matches_only_that_field(demo_sessions):
    assert keys(field="region", value="alipay") == []


def test_field_and_value_go_together(demo_sessions):
    assert "__all__" in errors(field="channel")
    assert "__all__" in errors(value="alipay")


def test_values_are_parameters_not_sql(demo_sessions):
    assert keys(field="channel", value="alipay' OR '1'='1") == []
    assert keys(q="x' OR 1=1 -- ") == []
    assert keys(key='" OR ""="') == []


def test_conclusion_matches_the_primary_or_any_holding_rule(demo_sessions):
    assert keys(conclusion="lost_order") == ["ORD-1003"]
    assert keys(conclusion="callback_missing") == ["ORD-1003"]  # holds, but is not the primary
    assert keys(conclusion="abandoned") == ["ORD-1005", "ORD-1005", "ORD-1004"]
    assert "no_such_rule" in errors(conclusion="no_such_rule")["conclusion"][0], "an unknown conclusion says so"


@pytest.mark.parametrize("spelling", ["lost_order", "LOST_ORDER", "Paid but not delivered", "paid BUT not delivered "])
def test_conclusion_is_found_by_code_or_label_in_any_case(demo_sessions, spelling):
    assert keys(conclusion=spelling) == ["ORD-1003"]


@pytest.mark.parametrize("spelling", ["Paid but not delivered", "lost_order", "LOST_ORDER"])
def test_the_q_box_also_takes_a_conclusion(demo_sessions, spelling):
    assert keys(q=spelling) == ["ORD-1003"]


def test_severity_selects_sessions_with_a_conclusion_of_that_severity(demo_sessions):
    assert keys(severity="high") == ["ORD-1003"]
    assert keys(severity="critical") == ["ORD-1002"]
    assert keys(severity="low", conclusion="abandoned") == ["ORD-1005", "ORD-1005", "ORD-1004"]
    assert "severity" in errors(severity="dreadful")


def test_an_unknown_field_name_says_so_and_lists_the_known_ones(demo_sessions):
    message = errors(field="chanel", value="alipay")["field"][0]
    assert "Unknown field 'chanel'" in message and "channel" in message


def test_field_conditions_combine_numeric_ranges_text_and_prefixes(demo_sessions):
    assert keys(where="amount_value > 100") == ["ORD-1004"]
    assert keys(where="amount_value >= 6\namount_value < 30") == ["ORD-1003", "ORD-1001"]
    assert keys(where="amount_value<=6.5; channel = alipay") == ["ORD-1003", "ORD-1001"]
    assert keys(where="order_id ^= ORD-100") == ["ORD-1005", "ORD-1005", "ORD-1004", "ORD-1003", "ORD-1002", "ORD-1001"]
    assert keys(where="channel != alipay", status="complete") == ["ORD-1002"]


def test_field_conditions_may_be_repeated_parameters(demo_sessions):
    from django.http import QueryDict

    filterset = SessionFilterSet(QueryDict("where=amount_value>6&where=channel=alipay"), queryset=search_queryset())
    assert [s.session_key for s in filterset.qs] == ["ORD-1003"]


@pytest.mark.parametrize("text, fragment", [
    ("amount_value > lots", "needs a number"), ("just words", "is not a condition"), ("amont > 1", "Unknown field"),
    ("amount_value >", "is not a condition"), ("\n".join(["amount_value > 1"] * 11), "At most"),
])
def test_bad_conditions_are_explained(demo_sessions, text, fragment):
    assert fragment in errors(where=text)["where"][0]


def test_missing_node(demo_sessions):
    assert keys(missing="delivery", status="closed", split="false") == ["ORD-1004", "ORD-1003"]
    assert keys(missing="order") == []
    assert "Unknown node" in errors(missing="nowhere")["missing"][0]


def test_prefix_search_on_keys_ids_and_values(demo_sessions):
    assert keys(key="ORD-100*") == ["ORD-1005", "ORD-1005", "ORD-1004", "ORD-1003", "ORD-1002", "ORD-1001"]
    assert keys(key="ORD-1002*") == ["ORD-1002"]
    assert keys(q="TX-900*") == ["ORD-1003", "ORD-1002", "ORD-1001"]
    assert keys(field="trans_id", value="TX-9002*") == ["ORD-1002"]
    assert keys(key="ORD%*") == [], "LIKE wildcards in a prefix are literal"


@pytest.mark.parametrize("ordering, first", [("key", "ORD-1001"), ("-key", "ORD-1005"), ("complete", None), ("-duration", None)])
def test_every_column_sorts(demo_sessions, ordering, first):
    found = keys(ordering=ordering)
    assert len(found) == 6
    if first:
        assert found[0] == first


def test_status_and_split(demo_sessions):
    assert keys(status="open") == ["ORD-1005"]
    assert keys(status="complete") == ["ORD-1002", "ORD-1001"]
    assert keys(split="true") == ["ORD-1005", "ORD-1005"]
    assert "ORD-1005" not in keys(split="false")
    assert "status" in errors(status="bogus")


@pytest.mark.parametrize(
    "since, until, expected",
    [
        ("2024-05-01", "2024-05-02", ["ORD-1003", "ORD-1002", "ORD-1001"]),
        ("2024-05-01T09:00:00Z", "2024-05-01T10:00:00Z", ["ORD-1002"]),
        ("2024-05-01 09:00", "", ["ORD-1005", "ORD-1005", "ORD-1004", "ORD-1003", "ORD-1002"]),
        ("2024-05-01T17:00:00+08:00", "2024-05-01T18:00:00+08:00", ["ORD-1002"]),  # 09:00Z–10:00Z
        ("", "2024-05-01T08:00:00.001Z", ["ORD-1001"]),
    ],
)
def test_time_range_on_start_accepts_iso_dates_and_datetimes(demo_sessions, since, until, expected):
    assert keys(since=since, until=until) == expected


def test_bad_times_and_durations_are_form_errors(demo_sessions):
    assert "since" in errors(since="last tuesday")
    assert "min_duration" in errors(min_duration="a while")


def test_min_duration(demo_sessions):
    # delivered: 40 s, duplicate: 95 s, lost: 32.5 s, abandoned/split: 5 s
    assert keys(min_duration="41s") == ["ORD-1002"]
    assert keys(min_duration="30") == ["ORD-1003", "ORD-1002", "ORD-1001"]
    assert keys(min_duration="1m") == ["ORD-1002"]


def test_q_box_matches_key_or_any_field_value_exactly(demo_sessions):
    assert keys(q="ORD-1004") == ["ORD-1004"]
    assert keys(q="  TX-9002 ") == ["ORD-1002"]
    assert keys(q="TX-90") == []
    assert keys(q="wechat") == ["ORD-1002"]


def test_template_by_name_or_id_and_unknown_template(demo_sessions, demo_template):
    assert len(keys(template="mobile-pay")) == 6
    assert len(keys(template=str(demo_template.pk))) == 6
    assert keys(template="nope") == []
    assert keys(template="nope", key="ORD-1001") == []


def test_searches_stay_inside_the_chosen_template(demo_sessions, demo_document):
    other_doc = dict(demo_document, name="other-pay")
    from sessions.services.templates import save_template_version

    other = save_template_version(other_doc).template
    make_session(other, SessionSpec("ORD-1001", 0, payment_events("ORD-1001", "TX-9001"), {"trans_id": "TX-9001"}, ["delivered"]), 9001)
    assert keys(q="TX-9001") == ["ORD-1001", "ORD-1001"]
    assert keys(q="TX-9001", template="other-pay") == ["ORD-1001"]
    assert [s.template.name for s in SessionFilterSet({"key": "ORD-1001", "template": "mobile-pay"}).qs] == ["mobile-pay"]
    assert AnalysisTemplate.objects.count() == 2


def test_filters_combine(demo_sessions):
    assert keys(field="channel", value="alipay", conclusion="delivered") == ["ORD-1001"]
    assert keys(field="channel", value="alipay", status="complete", since="2024-05-01T08:30:00Z") == []


def test_ordering_parameter(demo_sessions):
    assert keys(ordering="duration")[-1] == "ORD-1002"
    assert keys(ordering="-duration")[0] == "ORD-1002"


def test_dead_letter_filters(dead_letters, demo_template):
    def count(**params) -> int:
        return DeadLetterFilterSet(params, queryset=DeadLetter.objects.all()).qs.count()

    assert count(template="mobile-pay") == 4
    assert count(source="billing") == 2
    assert count(reason="bad JSON") == 2
    assert count(source="client", reason="no session key") == 1
    assert count(template="other") == 0


def test_helpers():
    assert as_number("6") == 6.0 and as_number("1e3") == 1000.0
    assert as_number("nan") is None and as_number("TX-1") is None
    assert parse_min_duration_ms("1.5") == 1500 and parse_min_duration_ms("2m") == 120_000
    with pytest.raises(ValueError):
        parse_min_duration_ms("inf")
    from datetime import datetime

    assert to_epoch_ms(datetime(2024, 5, 1, 8, 0)) == 1714550400000


PARAMS = ["q", "template", "key", "field", "value", "where", "conclusion", "severity", "missing", "status", "split",
          "since", "until", "min_duration", "ordering", "page"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(PARAMS), st.text(max_size=40), max_size=5))
def test_any_parameters_give_results_or_form_errors_never_an_exception(demo_sessions, params):
    filterset = SessionFilterSet(params, queryset=search_queryset())
    if filterset.is_valid():
        list(filterset.qs[:5])
    else:
        assert filterset.errors


def test_counts_stop_at_the_cap_and_say_more(demo_sessions, viewer_client, settings, monkeypatch):
    """No exact COUNT over millions: a full page counts up to LUNA_COUNT_CAP and says 'more than'; a page that holds
    every match is counted from its own rows."""
    from sessions.pagination import KeysetPagination
    from sessions.views import SessionSearchView

    monkeypatch.setattr(KeysetPagination, "page_size", 1)
    monkeypatch.setattr(SessionSearchView, "paginate_by", 1)
    settings.LUNA_COUNT_CAP = 2
    page = viewer_client.get("/").content.decode()
    assert "more than 2 sessions" in page
    body = viewer_client.get("/api/sessions/").json()
    assert (body["count"], body["count_kind"], body["count_capped"]) == (2, "more_than", True)
    settings.LUNA_COUNT_CAP = 1000
    body = viewer_client.get("/api/sessions/").json()
    assert (body["count"], body["count_kind"], body["count_capped"]) == (len(demo_sessions), "exact", False)
    monkeypatch.setattr(KeysetPagination, "page_size", 50)
    with CaptureQueriesContext(connection) as queries:
        body = viewer_client.get("/api/sessions/").json()
    assert (body["count"], body["count_kind"]) == (len(demo_sessions), "exact")
    assert not any("COUNT(" in query["sql"] and "luna_session" in query["sql"] for query in queries.captured_queries)


def test_a_conclusion_in_a_time_window_reads_only_that_window_of_the_conclusion_index(demo_template):
    from sessions.filters import SessionFilterSet
    from sessions.services import search

    qs = SessionFilterSet({"conclusion": "lost_order", "since": "2024-05-02", "until": "2024-05-03"},
                          queryset=search.search_queryset()).qs
    sql = str(qs.query)
    inner = sql[sql.index("luna_session_conclusion"):]
    assert "start_ms" in inner and " OR " not in sql


@pytest.mark.parametrize("params", [{"field": "channel", "value": "alipay"}, {"where": "amount_value > 10"},
                                    {"where": "channel != wechat"}, {"where": "order_id ^= ORD-10"}])
def test_both_plans_of_a_field_condition_find_the_same_sessions(demo_sessions, monkeypatch, params):
    """Few matches are collected on the field index (semi-join); many are probed per session (a LIMIT 1 subquery)."""
    from sessions.filters import SessionFilterSet
    from sessions.services import search

    def found():
        return sorted(SessionFilterSet(params, queryset=search.search_queryset()).qs.values_list("pk", flat=True))

    collected = found()
    monkeypatch.setattr(search, "UNSELECTIVE", 0)
    probed_sql = str(SessionFilterSet(params, queryset=search.search_queryset()).qs.query)
    assert found() == collected and ("LIMIT 1) IS NOT NULL" in probed_sql or "NOT EXISTS" in probed_sql)


def test_the_most_selective_of_several_conditions_drives_and_the_others_probe(demo_sessions, monkeypatch):
    from sessions.services import search

    params = {"where": "channel = alipay\norder_id = ORD-1001", "field": "region", "value": "eu"}
    everyone = set(SessionFilterSet(params, queryset=search.search_queryset()).qs.values_list("pk", flat=True))
    monkeypatch.setattr(search, "UNSELECTIVE", 1)  # order_id matches one row: it drives; the others probe
    qs = SessionFilterSet(params, queryset=search.search_queryset()).qs
    sql = str(qs.query)
    assert set(qs.values_list("pk", flat=True)) == everyone
    driver = sql[sql.index("`id` IN (SELECT"):sql.index("= (`luna_session`.`id`)")]  # up to the first probe
    assert sql.count("LIMIT 1) IS NOT NULL") == 2 and "ORD-1001" in driver and sql.count("ORD-1001") == 1


def test_both_plans_of_a_conclusion_find_the_same_sessions(demo_sessions, monkeypatch):
    from sessions.services import search

    params = {"conclusion": "lost_order", "since": "2024-01-01"}
    collected = sorted(SessionFilterSet(params, queryset=search.search_queryset()).qs.values_list("pk", flat=True))
    monkeypatch.setattr(search, "UNSELECTIVE", 0)
    qs = SessionFilterSet(params, queryset=search.search_queryset()).qs
    assert sorted(qs.values_list("pk", flat=True)) == collected and collected and "IS NOT NULL" in str(qs.query)


def test_the_search_page_shows_a_duration_histogram_of_its_result_set(demo_sessions, viewer_client):
    from sessions.services import search

    response = viewer_client.get("/", {"conclusion": "delivered"})
    histogram = response.context["duration_histogram"]
    matches = response.context["page_obj"].count.value
    assert sum(histogram["counts"]) == histogram["sampled"] == matches > 0 and not histogram["capped"]
    assert histogram["edges_ms"] == sorted(histogram["edges_ms"]) and len(histogram["edges_ms"]) == len(histogram["counts"]) + 1
    assert 'id="duration-histogram-data"' in response.content.decode()
    assert search.duration_histogram(search.search_queryset().none())["counts"] == []


def test_histogram_bins_hold_every_duration_once():
    from sessions.services.search import histogram_of

    sample = [0, 0, 5, 900, 1_000, 60_000, 3_600_000, 3_600_000]
    result = histogram_of(sample, bins=6)
    assert sum(result["counts"]) == len(sample) and result["counts"][0] >= 2


def test_a_histogram_too_slow_for_the_time_limit_falls_back_to_a_small_sample(demo_sessions, monkeypatch):
    from sessions.services import counting, search

    real, asked = counting.limited_rows, []

    def slow_for_big_samples(queryset, *args):
        asked.append(queryset.query.high_mark)
        return None if queryset.query.high_mark > 500 else real(queryset, *args)

    monkeypatch.setattr(counting, "limited_rows", slow_for_big_samples)
    histogram = search.duration_histogram(search.search_queryset())
    assert asked == [10_000, 500] and histogram["sampled"] == len(demo_sessions) and not histogram["capped"]
    monkeypatch.setattr(counting, "limited_rows", lambda *args: None)
    assert search.duration_histogram(search.search_queryset()) == {"edges_ms": [], "counts": [], "sampled": 0, "capped": True}


def test_a_key_prefix_few_keys_have_is_collected_first_and_a_common_one_stays_a_like(demo_sessions, monkeypatch):
    from sessions.services import search

    everyone = sorted(SessionFilterSet({"key": "ORD-100*"}, queryset=search_queryset()).qs.values_list("pk", flat=True))
    collected = SessionFilterSet({"key": "ORD-100*"}, queryset=search_queryset()).qs
    assert "IN (SELECT U0.`id`" in str(collected.query).split("ORDER BY")[0] and everyone
    monkeypatch.setattr(search, "UNSELECTIVE", 0)
    walked = SessionFilterSet({"key": "ORD-100*"}, queryset=search_queryset()).qs
    assert "LIKE" in str(walked.query) and sorted(walked.values_list("pk", flat=True)) == everyone


def test_prefixes_stay_case_sensitive_and_give_the_index_a_plain_like(demo_sessions):
    from sessions.services import search

    qs = SessionFilterSet({"key": "ORD-100*"}, queryset=search_queryset()).qs
    assert qs.exists() and not SessionFilterSet({"key": "ord-100*"}, queryset=search_queryset()).qs.exists()
    sql = str(search_queryset().filter(search.starts_with("session_key", "ORD")).query)
    if connection.vendor == "mysql":
        assert "LIKE ORD%" in sql and "LIKE BINARY ORD%" in sql
