"""The session fact row (pure) and its upkeep's statements: one row per session, first value of a multi-valued
dimension (as the rollups), six slots by name, nodes as a delimited list; upsert replaces, removal deletes."""
import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from analytics.facts.row import FACT_COLUMNS, FACT_SLOTS, dim_key, fact_row, fact_slots, nodes_text
from analytics.facts.upkeep import FactUpkeep, delete_facts
from analytics.replica.versions import DAY_MS, day_of
from analytics.rollups.contribution import facts_of
from analytics.rollups.dimensions import TemplateDimensions
from analytics.rollups.histogram import bucket_of
from tests.test_analytics_rollups import T0, document

DIMS = ["zone", "region", "channel", "a", "b", "c", "d"]


def row_of(doc: dict, dims=DIMS) -> dict:
    return dict(zip(FACT_COLUMNS, fact_row(7, doc, dims)))


def test_a_fact_row_holds_the_first_six_dimensions_by_name_and_the_rollups_facts():
    doc = dict(document(), nodes=[{"node": "pay_page"}, {"node": "order"}, {"node": "order"}])
    row = row_of(doc)
    assert fact_slots(DIMS) == ("a", "b", "c", "channel", "d", "region") and len(fact_slots(DIMS)) == FACT_SLOTS
    assert [row[f"d{i}"] for i in range(1, 7)] == ["", "", "", "alipay", "", "eu"]
    assert row["dim_key"] == dim_key(fact_slots(DIMS)) != dim_key(fact_slots(DIMS[:2]))
    facts = facts_of(doc, DIMS)
    assert (row["status"], row["conclusion"], row["severity"], row["completeness_e4"]) == (
        facts.status, facts.conclusion, facts.severity, facts.completeness_e4)
    assert (row["start_ms"], row["end_ms"], row["duration_bucket"]) == (T0 + 61_000, T0 + 101_000, bucket_of(40_000))
    assert row["nodes"] == ",order,pay_page,"


def test_a_multi_valued_dimension_counts_under_its_first_value_as_in_the_rollups():
    doc = dict(document(), fields={"channel": ["card", "alipay"], "region": 7.0})
    row = row_of(doc, ["channel", "region"])
    assert (row["d1"], row["d2"]) == ("card", "7")
    assert facts_of(doc, ["channel", "region"]).dims == (("channel", "card"), ("region", "7"))


@given(st.lists(st.text(alphabet="abcxyz_", min_size=1, max_size=120), max_size=40))
def test_the_nodes_text_is_delimited_deduplicated_and_bounded(names):
    text = nodes_text(names)
    assert len(text) <= 2000
    if text:
        assert text.startswith(",") and text.endswith(",")
        assert set(text.strip(",").split(",")) <= set(names)


def sqlite_fact_tables() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE analytics_session_fact ({', '.join(FACT_COLUMNS)}, PRIMARY KEY (session_id))")
    conn.execute("CREATE TABLE analytics_fact_days (template_id, day_ms, version, PRIMARY KEY (template_id, day_ms))")
    return conn


def versions_of(cur) -> dict[int, int]:
    return dict(cur.execute("SELECT day_ms, version FROM analytics_fact_days WHERE template_id = 7").fetchall())


def test_the_upkeep_replaces_a_sessions_row_and_deletes_removed_ones_on_sqlite():
    conn = sqlite_fact_tables()
    dimensions = TemplateDimensions(7, "")
    dimensions.pin(["channel", "region"])
    upkeep = FactUpkeep(7, "sqlite", dimensions, enabled=True)
    cur = conn.cursor()
    upkeep.write(cur, [document(), dict(document(), uid=2)], [])
    upkeep.write(cur, [dict(document(conclusion="delivered"), uid=2)], [1])
    assert cur.execute("SELECT session_id, conclusion, d1, d2 FROM analytics_session_fact").fetchall() == [(2, "delivered", "alipay", "eu")]
    assert upkeep.rows_written == 3
    assert versions_of(cur) == {day_of(T0): 2}  # one bump per batch that touched the day


def test_a_batch_bumps_the_day_of_each_new_row_and_the_old_day_of_a_moved_or_removed_session():
    conn = sqlite_fact_tables()
    dimensions = TemplateDimensions(7, "")
    dimensions.pin(["channel", "region"])
    upkeep, cur = FactUpkeep(7, "sqlite", dimensions, enabled=True), conn.cursor()
    today, yesterday, before = day_of(T0), day_of(T0) - DAY_MS, day_of(T0) - 2 * DAY_MS
    moved = dict(document(), uid=5, start_ms=before + 1000, end_ms=before + 2000)
    upkeep.write(cur, [document(), dict(document(), uid=3, start_ms=yesterday + 5, end_ms=yesterday + 50), moved], [])
    assert versions_of(cur) == {today: 1, yesterday: 1, before: 1}
    # session 5 moves from `before` to today; session 3 (yesterday) is removed; `before` has no row left
    upkeep.write(cur, [dict(moved, start_ms=T0 + 10, end_ms=T0 + 20)], [3])
    assert versions_of(cur) == {today: 2, yesterday: 2, before: 2}
    upkeep.write(cur, [dict(document(), uid=9)], [])  # only today's rows: only today moves
    assert versions_of(cur) == {today: 3, yesterday: 2, before: 2}
    assert upkeep.days_bumped == 3 + 3 + 1
    assert delete_facts(cur, "sqlite", [1, 5, 404]) == 1 and versions_of(cur)[today] == 4
