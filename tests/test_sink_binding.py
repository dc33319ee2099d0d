"""The sink's cursor binds parameters to exactly the SQL text PyMySQL's own cursor would (on the real server)."""
import pymysql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sessionize.sink.binding import BatchCursor
from jobs.sessionize.sink.dialects import connect
from sessions.services.sink_database import database_url_for_jobs

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64), st.floats(allow_nan=False, allow_infinity=False),
    st.text(), st.text(alphabet="'\"\\\x00\n\r\x1a%"), st.binary(max_size=20),
)


pytestmark = pytest.mark.django_db


@pytest.fixture
def connection():
    url = database_url_for_jobs()
    if not url.startswith(("mysql", "mariadb", "tidb")):
        pytest.skip("binding is PyMySQL's: needs a MySQL-compatible server")
    conn = connect(url)[1]()
    yield conn
    conn.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.lists(VALUES, min_size=1, max_size=8).map(tuple))
def test_a_row_binds_to_the_same_sql_as_pymysql_binds_it(connection, row):
    query = "(" + ", ".join(["%s"] * len(row)) + ")"
    assert isinstance(connection.cursor(), BatchCursor)
    assert BatchCursor(connection)._mogrify(query, row) == pymysql.cursors.Cursor(connection)._mogrify(query, row)


def test_a_value_pymysql_refuses_is_refused_the_same_way(connection):
    for cursor in (BatchCursor(connection), pymysql.cursors.Cursor(connection)):
        with pytest.raises(Exception, match="can not be used with MySQL"):
            cursor._mogrify("(%s)", (float("inf"),))


class Recording:
    """A cursor that keeps the statements it would send (and sends none)."""

    def _query(self, query):
        self.sent.append(bytes(query))
        return 1


class RecordingBatchCursor(Recording, BatchCursor):
    pass


class RecordingCursor(Recording, pymysql.cursors.Cursor):
    pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(1, 5), data=st.data(), limit=st.sampled_from([40, 120, 1024000]))
def test_a_multi_row_insert_is_cut_into_the_same_statements_as_pymysql_cuts_it(connection, width, data, limit):
    rows = data.draw(st.lists(st.tuples(*[VALUES] * width), min_size=1, max_size=12))
    query = f"INSERT INTO t ({', '.join(f'c{i}' for i in range(width))}) VALUES ({', '.join(['%s'] * width)})"
    sent = []
    for kind in (RecordingBatchCursor, RecordingCursor):
        cursor = kind(connection)
        cursor.sent, cursor.max_stmt_length = [], limit
        assert cursor.executemany(query, rows) == len(cursor.sent)
        sent.append(cursor.sent)
    assert sent[0] == sent[1]


def test_a_deferred_write_is_seen_by_the_next_select_and_its_error_raised_by_the_next_command(connection):
    cur = connection.cursor()
    cur.execute("CREATE TEMPORARY TABLE deferred_probe (id INT PRIMARY KEY)")
    cur.defer_writes = True
    cur.executemany("INSERT INTO deferred_probe (id) VALUES (%s)", [(1,), (2,)])
    cur.execute("SELECT COUNT(*) FROM deferred_probe")  # waits for the insert's answer first
    assert cur.fetchall() == ((2,),)
    cur.execute("WITH probe AS (SELECT MAX(id) AS top FROM deferred_probe) SELECT top FROM probe")  # only writes wait
    assert cur.fetchall() == ((2,),)
    cur.execute("INSERT INTO deferred_probe (id) VALUES (%s)", (2,))  # refused, but its answer is not read yet
    with pytest.raises(Exception, match="Duplicate entry"):  # (the suite may hold two copies of pymysql.err)
        connection.commit()  # the next command raises it: the transaction fails as a whole
    connection.rollback()
    cur.execute("SELECT COUNT(*) FROM deferred_probe")
    assert cur.fetchall() == ((0,),)  # the connection is usable and nothing of the transaction stayed
