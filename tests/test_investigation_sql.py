"""Read-only ad-hoc SQL for editors: one SELECT on the Luna tables, read-only, row and time limits, audited."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from investigation.models import QueryRun, SavedQuery
from investigation.services import adhoc
from sessions.models import Session
from tests.factories import logged_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("sql, fragment", [
    ("DELETE FROM luna_session", "only SELECT"),
    ("UPDATE luna_session SET revision = 0", "only SELECT"),
    ("INSERT INTO luna_session (id) VALUES (1)", "only SELECT"),
    ("DROP TABLE luna_session", "only SELECT"),
    ("SELECT 1; DELETE FROM luna_session", "one statement at a time"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("SELECT password FROM auth_user", "'auth_user' is not allowed"),
    ("SELECT * FROM authtoken_token", "is not allowed"),
    ("SELECT session_data FROM django_session", "is not allowed"),
    ("SELECT * FROM information_schema.tables", "is not allowed"),
    ("SELECT * FROM luna_session FOR UPDATE", "is not allowed"),
    ("SELECT * FROM luna_session INTO OUTFILE '/tmp/x'", "is not allowed"),
    ("SELECT SLEEP(10)", "is not allowed"),
    ("SELECT " + "1 + " * 5000 + "1", "at most 10000 are allowed"),
    ("   ", "the query is empty"),
])
def test_it_refuses_anything_but_one_read_only_select_on_luna_tables(sql, fragment, users):
    with pytest.raises(adhoc.QueryRefused, match=fragment):
        adhoc.run(sql, users["editor"])
    assert QueryRun.objects.get().error, "refusals are audited too"


def test_a_word_inside_a_string_is_not_a_table(demo_sessions, users):
    result = adhoc.run("SELECT session_key FROM luna_session WHERE session_key <> 'auth_user' ORDER BY session_key", users["editor"])
    assert [row[0] for row in result.rows] == sorted(Session.objects.values_list("session_key", flat=True))


def test_rows_are_limited_and_the_run_audited(demo_sessions, users):
    result = adhoc.run("SELECT id FROM luna_session", users["editor"], max_rows=2)
    assert len(result.rows) == 2 and result.truncated and result.columns == ["id"]
    run = QueryRun.objects.get()
    assert (run.author, run.rows, run.truncated, run.error) == (users["editor"], 2, True, "")


def test_a_query_past_its_time_limit_is_stopped(users):
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999) SELECT COUNT(*) FROM n a, n b, n c"
    with pytest.raises(adhoc.QueryRefused, match="the database refused or stopped the query"):
        adhoc.run(endless, users["editor"], timeout_ms=300)


def test_the_read_only_transaction_holds_even_if_a_write_slipped_through(users, monkeypatch):
    monkeypatch.setattr(adhoc, "check", lambda sql: sql)  # pretend the checker missed it
    with pytest.raises(adhoc.QueryRefused):
        adhoc.run("DELETE FROM luna_session", users["editor"])


def test_page_and_api_are_for_editors_and_results_download_as_csv(demo_sessions, users):
    assert logged_in(users["viewer"]).get("/sql/").status_code == 403
    assert logged_in(users["viewer"]).post("/api/sql/run/", {"sql": "SELECT 1"}, content_type="application/json").status_code == 403
    editor = logged_in(users["editor"])
    page = editor.post("/sql/", {"sql": "SELECT primary_conclusion, COUNT(*) AS n FROM luna_session GROUP BY primary_conclusion", "do": "run"})
    assert page.status_code == 200 and "primary_conclusion" in page.content.decode()
    csv_body = b"".join(editor.post("/sql/", {"sql": "SELECT session_key FROM luna_session ORDER BY session_key", "do": "csv"}).streaming_content)
    assert csv_body.decode().splitlines()[0] == "session_key" and len(csv_body.decode().splitlines()) == Session.objects.count() + 1
    assert editor.post("/sql/", {"sql": "DELETE FROM luna_session", "do": "run"}).status_code == 400
    editor.post("/sql/", {"sql": "SELECT COUNT(*) FROM luna_session", "do": "save", "name": "count"})
    assert SavedQuery.objects.get(name="count").author == users["editor"]
    api = editor.post("/api/sql/run/", {"sql": "SELECT COUNT(*) AS n FROM luna_session"}, content_type="application/json").json()
    assert api["columns"] == ["n"] and api["rows"] == [[Session.objects.count()]]
    refused = editor.post("/api/sql/run/", {"sql": "SELECT 1; SELECT 2"}, content_type="application/json")
    assert refused.status_code == 400 and "one statement" in refused.json()["detail"]
    assert editor.get("/api/sql/runs/").json()[0]["error"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sql=st.text(max_size=200))
def test_any_text_is_refused_or_run_and_never_writes(demo_sessions, users, sql):
    before = Session.objects.count()
    try:
        adhoc.run(sql, users["editor"], max_rows=5, timeout_ms=500)
    except adhoc.QueryRefused:
        pass
    assert Session.objects.count() == before


def test_each_backend_prints_its_own_limits():
    """One printer per backend: TiDB reads the analytic replica; values are never spliced in (limits are ints)."""
    inner = "SELECT id FROM luna_session"
    assert adhoc.PRINTERS["mariadb"](inner, 11, 5000)[0] == (
        "SET STATEMENT max_statement_time=5.000 FOR SELECT * FROM (SELECT id FROM luna_session) AS adhoc LIMIT 11")
    assert adhoc.PRINTERS["mysql"](inner, 11, 5000)[0] == (
        "SELECT /*+ MAX_EXECUTION_TIME(5000) */ * FROM (SELECT id FROM luna_session) AS adhoc LIMIT 11")
    sql, notes = adhoc.PRINTERS["tidb"](inner, 11, 5000)
    assert sql == ("SELECT /*+ MAX_EXECUTION_TIME(5000) READ_FROM_STORAGE(TIFLASH[adhoc]) */ * FROM "
                   "(SELECT id FROM luna_session) AS adhoc LIMIT 11") and notes == ["read from the TiFlash replica"]
    assert adhoc.PRINTERS["sqlite"](inner, 11, 5000)[0] == "SELECT * FROM (SELECT id FROM luna_session) AS adhoc LIMIT 11"
