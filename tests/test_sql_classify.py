"""Node classification in SQL (jobs/sessionize/sql_classify.py + the Java `luna_record` / SqlRows) equals the Python
parser on every line it decides, and leaves every other line to Python: hypothesis-generated records (missing
fields, wrong types, bad JSON, bad times, duplicate keys, surrogates) and rules (inside and outside the subset).

The Java pieces are checked through the Py4J gateway (no job) where they are pure; the SQL through one bounded
Flink job per example (marked `flink`).
"""
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from jobs.sessionize.functions import BASELINE, PASS, SUPPLEMENT
from jobs.sessionize.logic.records import Event, Ignored, event_from_line, line_uid, parse_line
from jobs.sessionize.logic.router import routing_key
from jobs.sessionize.logic.template import compile_template
from jobs.sessionize.sql_classify import UNSURE, address_spec, compiled_sources, plan_source, rule_sql
from tests.jvm_bridge import jvm_package

EXAMPLES = int(os.environ.get("LUNA_PROPERTY_EXAMPLES", "60"))
COLUMNS = {"kind": "f[2]", "n": "f[3]"}


@pytest.mark.parametrize("rule", [
    "kind == 'a'", "'a' != kind", "kind in ['a', 'b']", "n >= 2", "n < 2.5", "!(kind == 'a') && n > -3",
    "(kind == 'a' || kind == \"b\") && !(!(n == 1))",
])
def test_rules_in_the_subset_compile_to_sql(rule):
    assert rule_sql(rule, COLUMNS) != UNSURE


@pytest.mark.parametrize("rule", [
    "ts > 5", "has(kind)", "n + 1 > 2", "kind == 'a\\'b'", "!kind == 'a'", "kind.size() > 1", "kind == n",
    "n == true", "(kind == 'a') == true", "kind in [1, 2]", "n > 9007199254740993", "other == 'a'", "kind ? 1 : 2",
])
def test_rules_outside_the_subset_are_left_to_python(rule):
    assert rule_sql(rule, COLUMNS) == UNSURE


class _Package:
    """The Java package behind a plain repr (hypothesis prints a failing example's arguments, fixtures included)."""

    def __init__(self):
        self.java = jvm_package()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.java, name)

    def __repr__(self) -> str:
        return "luna.sessionize"


@pytest.fixture(scope="module")
def package():
    return _Package()


@settings(max_examples=EXAMPLES * 3, deadline=None)
@given(source=st.sampled_from(["billing", "a_b"]), line=st.text())
def test_the_java_line_uid_is_pythons(package, source, line):
    if any(0xD800 <= ord(c) <= 0xDFFF for c in line):
        line = line.encode("utf-8", "replace").decode("utf-8", "replace")
    assert package.Blake2b.lineUid(source, line) == line_uid(source, line)


TIME_FORMATS = [("iso8601", "+08:00"), ("iso8601", None), ("epoch_ms", None), ("epoch_s", None),
                ("%Y-%m-%d %H:%M:%S.%f", "+05:30"), ("%Y-%m-%dT%H:%M:%S", "-0100")]
TIME_TEXT = st.from_regex(r"\A(0000|0001|1969|1970|2024|9999)-(00|01|02|12|13)-(00|01|28|29|30|31)[T ]"
                          r"(00|23|24):(00|59|60):(00|59|60)(\.\d{1,7})?(Z|[+-](00|08|23|24):(00|30|59|60))?\Z")
def _time_text(moment, sep: str, digits: int, offset: str) -> str:
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    return text + (f".{moment.microsecond:06d}{moment.microsecond % 10}"[:digits + 1] if digits else "") + offset


VALID_TIMES = st.one_of(
    st.builds(_time_text, st.datetimes(), st.sampled_from(["T", " "]), st.integers(0, 7),
              st.sampled_from(["", "", "Z", "+08:00", "-05:30", "+23:59", "+00:60", "-24:00"])),
    st.integers(-253_402_300_800_000, 253_402_300_800_000), st.floats(-3e14, 3e14), st.floats(-3e11, 3e11),
    st.integers(-10**12, 10**12))
TIME_VALUES = st.one_of(VALID_TIMES, VALID_TIMES, TIME_TEXT, st.integers(-2**64, 2**64), st.floats(allow_nan=False), st.booleans(), st.none(),
                        st.text(max_size=12), st.sampled_from([1.0005, 0.0005, 2.5e-3, 1700000000.0005, -0.0005]))
FIELD_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                         st.sampled_from(["a", "b", "", "A", "é", "a\"b", "😀", "\u2028"]),
                         st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from("xy"), st.integers(), max_size=2))
RECORDS = st.fixed_dictionaries({"t": TIME_VALUES}, optional={"kind": FIELD_VALUES, "m": st.one_of(
    st.fixed_dictionaries({}, optional={"n": FIELD_VALUES}), FIELD_VALUES), "k": FIELD_VALUES, "j": FIELD_VALUES,
    "x": st.lists(FIELD_VALUES, max_size=2)})


def poisoned(record: dict) -> st.SearchStrategy[str]:
    text = json.dumps(record, ensure_ascii=False)
    inner = text[1:-1]
    return st.sampled_from([text] * 12 + [
        text.replace(": ", ":"), f" {text}", f"{text}\r", f"{text} {text}", text[:-1], f'{{{inner}{", " if inner else ""}"k": "dup"}}',
        f'{{"k": "dup"{", " if inner else ""}{inner}}}', text.replace('"a"', '"\\ud800"'), text.replace('"a"', '"\\ud83d\\ude00"'),
        text.replace("1", "NaN", 1), text.replace("0", "01", 1), "[" * 300 + "]" * 300, "", "{}", f'{{"x": {"[" * 210}1{"]" * 210}}}',
    ])


LINES = RECORDS.flatmap(poisoned)


def classification_template(rules: list[str], time_format: tuple[str, str | None], j_path: str = "j") -> dict:
    fmt, tz = time_format
    fields = {"kind": "kind", "n": "m.n", "k": "k", "j": j_path}
    return {
        "name": "sqlc", "sources": [{"name": "s", "location": "s", "time": {"path": "t", "format": fmt, "tz": tz}, "fields": fields}],
        "session": {"key": "k"},
        "nodes": [
            {"name": "n1", "source": "s", "when": rules[0]},
            {"name": "n2", "source": "s", "when": rules[1], "join": {"on": "j", "lower": "-1m", "upper": "+1m"}},
            {"name": "n3", "source": "s", "when": rules[2]},
        ],
    }


LEAVES = st.one_of(
    st.tuples(st.sampled_from(["kind", "n"]), st.sampled_from(["==", "!=", "<", ">="]),
              st.sampled_from(["'a'", "'b'", "''", "1", "-2", "2.5", "0"])).map(" ".join),
    st.sampled_from(["kind in ['a', 'é']", "n in ['a']", "has(kind)", "n + 1 > 1", "ts > 0"]),
)
RULES = st.recursive(LEAVES, lambda sub: st.one_of(
    st.tuples(sub, st.sampled_from([" && ", " || "]), sub).map("".join), sub.map(lambda e: f"!({e})"), sub.map(lambda e: f"({e})")),
    max_leaves=4)


def python_token(values: dict, name: str):
    """The token `luna_record` must give a field, from the values Python's parser extracted: a string may also
    be `o` (Python's text of a list, object or huge number), a number `i`/`f` with the same value."""
    if name not in values:
        return None
    value = values[name]
    if isinstance(value, str):
        return "s" + value
    return "o" if isinstance(value, bool) else ("i", "f")[isinstance(value, float)]


@settings(max_examples=EXAMPLES * 5, deadline=None, suppress_health_check=list(HealthCheck))
@given(time_format=st.sampled_from(TIME_FORMATS), j_path=st.sampled_from(["j", "x.0"]), line=LINES)
@example(time_format=("%Y-%m-%d %H:%M:%S.%f", "+05:30"), j_path="j", line='{"t": "1969-01-01 00:00:00"}')  # `.%f` is required
def test_luna_record_reads_what_python_reads(package, time_format, j_path, line):
    """Where the Java reader is sure (non-NULL), Python accepts the line with the same event time and field types."""
    document = classification_template(["kind == 'a'"] * 3, time_format, j_path)
    template = compile_template(document)
    plan = plan_source(template, template.sources["s"], "src_s")
    tokens = package.RecordTokens().eval(line, plan.record_spec)
    from jobs.sessionize.logic.records import Rejection, field_values, load_record
    python = parse_line(template, "s", line)
    event("read by luna_record" if tokens is not None else "left to Python")
    if tokens is None:
        return
    assert not isinstance(python, Rejection) or python.reason.startswith("missing"), (line, python)
    record = load_record(line)
    assert int(tokens[0]) == template.sources["s"].parse_time(_dig_time(record)), line
    values = field_values(template.sources["s"], record)
    for name, token in zip(plan.fields, list(tokens)[1:]):
        expected = python_token(values, name)
        if expected in ("i", "f"):
            assert token[0] == expected and float(token[1:]) == values[name], (line, name)
        else:
            assert token == expected or (token == "o" and expected and expected[0] in "so"), (line, name, token)


def _dig_time(record: dict):
    return record["t"]


def expected_address(template, event: Event) -> tuple:
    """What ParseRows hands the JVM stages for a Python event (route, kind)."""
    if event.supplement:
        return routing_key(template.nodes[event.node].join.on, event.join_key), SUPPLEMENT
    if not event.joins:
        return event.session_key, PASS
    return routing_key(*next(iter(event.joins.items()))), BASELINE


def check_rows(package, template, plans, rows) -> int:
    """Each SQL-classified row against Python; returns how many SQL decided."""
    from pyflink.java_gateway import get_gateway
    from pyflink.util.java_utils import to_jarray

    gateway = get_gateway()
    addresser = package.SqlRows(address_spec(template, plans), False)
    decided = 0
    for source, line, origin, tokens, node in rows:
        python = parse_line(template, source, line, origin or "")
        if tokens is None or node == "?":
            assert node == "?", (line, node)
            continue
        assert int(tokens[0]) == python.ts if isinstance(python, Event) else True, line
        row = addresser.address(source, line, origin or "", to_jarray(gateway.jvm.String, list(tokens)), node)
        if row is None:
            continue
        decided += 1
        if row.getArity() == 0:
            assert isinstance(python, Ignored), (line, python)
            continue
        assert isinstance(python, Event), (line, node, python)
        route, kind = expected_address(template, python)
        got = (row.getField(0), row.getField(1), row.getField(2), row.getField(3), row.getField(4), row.getField(5),
               row.getField(6), dict(row.getField(7)), row.getField(8))
        assert got == (route, kind, python.uid, python.node, python.ts, python.session_key, python.join_key,
                       python.joins, python.supplement), line
        assert event_from_line(template, source, node, python.ts, line, origin or "") == python
    return decided


def run_sql(template_doc: dict, lines: dict[str, list[str]]) -> tuple:
    """One bounded job: the sources' SQL classification, collected (source, line, origin, tokens, node)."""
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    from jobs.sessionize.jvm import ensure_jar
    from jobs.sessionize.sql_sources import filesystem_options, source_ddl

    template = compile_template(template_doc)
    with tempfile.TemporaryDirectory() as folder:
        env = StreamExecutionEnvironment.get_execution_environment()
        env.set_parallelism(1)
        env.add_jars(ensure_jar().as_uri())
        tenv = StreamTableEnvironment.create(env)
        tenv.get_config().set("table.local-time-zone", "UTC")
        tenv.create_java_temporary_system_function("luna_record", "luna.sessionize.RecordTokens")
        plans = []
        for source in template_doc["sources"]:
            Path(folder, source["name"]).mkdir()
            Path(folder, source["name"], "lines.jsonl").write_text("\n".join(lines[source["name"]]) + "\n", encoding="utf-8")
            options = filesystem_options(str(Path(folder, source["name"])), None)
            tenv.execute_sql(source_ddl(f"src_{source['name']}", source, options, 1000)[0])
            plans.append(plan_source(template, template.sources[source["name"]], f"src_{source['name']}"))
        width = max(len(plan.fields) for plan in plans) + 1  # tokens as columns: collect() cannot read NULL array items
        query = "\nUNION ALL\n".join(
            f"SELECT source, line, origin, node, f IS NULL, {', '.join(f'f[{i + 1}]' for i in range(width))} FROM ({plan.query})"
            for plan in plans)
        with tenv.sql_query(query).execute().collect() as results:
            rows = [(r[0], r[1], r[2], None if r[4] else list(r[5:]), r[3]) for r in results]
    return template, plans, rows


@pytest.mark.flink
@settings(max_examples=max(3, EXAMPLES // 20), deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
@given(rules=st.lists(RULES, min_size=3, max_size=3), time_format=st.sampled_from(TIME_FORMATS),
       j_path=st.sampled_from(["j", "x.0"]), lines=st.lists(LINES, min_size=150, max_size=300))
def test_sql_classification_equals_python(package, rules, time_format, j_path, lines):
    lines = [line for line in lines if "\n" not in line]
    template, plans, rows = run_sql(classification_template(rules, time_format, j_path), {"s": lines})
    assert len(rows) >= len([line for line in lines if line]) - 1  # every line reaches the classification
    check_rows(package, template, plans, rows)


@pytest.mark.flink
def test_demo_lines_are_classified_in_sql(package, tmp_path):
    """The demo template's rules are all in the subset: SQL decides its logs' lines (all but the malformed ones)."""
    from sessions.services.demo_data.files import source_locations, write_backlog
    from tests.factories import DEMO_PATH
    from tests.flows import T0

    document = json.loads(DEMO_PATH.read_text())
    write_backlog(document, tmp_path, orders=150, seed=3, start_ms=T0, end_ms=T0 + 3_600_000)
    locations = source_locations(document)
    lines = {name: [line for path in sorted((tmp_path / locations[name]).glob("*.jsonl")) for line in path.read_text().splitlines()]
             for name in locations}
    template, plans, rows = run_sql(document, lines)
    decided = check_rows(package, template, plans, rows)
    assert len(rows) == sum(map(len, lines.values())) and decided >= 0.97 * len(rows), (decided, len(rows))


def test_compiled_sources_are_what_a_running_job_cannot_swap():
    """Per SQL-classified source, the text the job compiled: a node rule changes its source's entry only; what SQL
    does not compile (conclusions) changes none; a source SQL cannot time is not there (Python parses it)."""
    document = json.loads((Path(__file__).resolve().parents[1] / "sessions" / "demo" / "mobile-pay.json").read_text())
    compiled = compiled_sources(document)
    assert set(compiled) == {source["name"] for source in document["sources"]}
    with_conclusion = {**document, "conclusions": [*document["conclusions"], {"name": "x", "when": "has(order)", "severity": "info"}]}
    assert compiled_sources(with_conclusion) == compiled
    nodes = [dict(node) for node in document["nodes"]]
    nodes[1]["when"] = "event == 'pay_page_shown'"
    changed = compiled_sources({**document, "nodes": nodes})
    assert {name for name in compiled if changed[name] != compiled[name]} == {"client"}
    sources = [dict(source) for source in document["sources"]]
    sources[1]["time"] = {"path": "ts", "format": "%d/%m/%Y %H:%M:%S"}
    assert "client" not in compiled_sources({**document, "sources": sources})
