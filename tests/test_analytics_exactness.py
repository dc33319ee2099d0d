"""Exactness: rollups and the session fact table kept by the sink equal a GROUP BY over the final sessions, also
after a replay.

A stream of payment flows whose revisions change conclusions (a late delivery turns a lost order into a
delivered one) and dimensions (a late order line brings the channel and region) goes through the real
correlation engine and the real sink writer in small batches, with provisional (timeout) emissions.
"""
import random
from collections import Counter, defaultdict

import pytest
from django.db.models import Sum

from analytics.facts.row import dim_key, fact_slots
from analytics.models import Rollup, RollupDays, RollupHours, RollupSpan, SessionContribution, SessionFact
from analytics.rollups.contribution import DAY_MS, HOUR_COLUMNS
from analytics.rollups.histogram import COLUMNS as HISTOGRAM_COLUMNS, bucket_of
from analytics.rollups.upkeep import RollupUpkeep
from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.sink.dialects import connect
from jobs.sessionize.sink.writer import SessionWriter
from sessions.models import Session, SessionConclusion, SessionField
from sessions.services.sink_database import database_url_for_jobs
from tests.analytics_backends import analytics_db  # noqa: F401 (fixture)
from tests.flows import (
    HOUR, MINUTE, SECOND, T0, callback_line, delivery_line, demo_template, order_line, pay_page_line, verified_line, voucher_line,
)

pytestmark = pytest.mark.django_db(transaction=True)


def stream(orders: int, seed: int) -> list[tuple[str, str]]:
    """Lines in arrival order: mostly in time, some late enough to change a stored session."""
    rnd = random.Random(seed)
    timed = []
    for i in range(orders):
        oid, tid, start = f"ORD-{i}", f"TX-{i}", T0 + i * 7 * MINUTE + rnd.randrange(0, 50) * SECOND
        channel, region = rnd.choice(["alipay", "wechat", "card"]), rnd.choice(["eu", "cn"])
        kind = rnd.choice(["full", "lost_then_delivered", "abandoned", "late_order", "duplicate"])
        lines = [(start + 5 * SECOND, pay_page_line(start + 5 * SECOND, oid))]
        order = order_line(start, oid, channel=channel, region=region)
        lines.append((start + (40 * MINUTE if kind == "late_order" else 0), order))  # arrives late: dimensions change
        if kind != "abandoned":
            lines += [(start + 40 * SECOND, voucher_line(start + 40 * SECOND, oid, tid)),
                      (start + 45 * SECOND, verified_line(start + 45 * SECOND, oid, tid)),
                      (start + 50 * SECOND, callback_line(start + 50 * SECOND, tid))]
            delivery_at = start + (30 * MINUTE if kind == "lost_then_delivered" else 55 * SECOND)
            lines.append((delivery_at, delivery_line(delivery_at, tid)))
            if kind == "duplicate":
                lines.append((start + 70 * SECOND, delivery_line(start + 70 * SECOND, tid, role="r2")))
        timed += lines
    timed.sort(key=lambda item: item[0])
    return [line for _, line in timed]


def emissions(lines: list[tuple[str, str]]) -> list:
    corr = Correlator(demo_template(), keep_emissions=True)
    for i, (source, line) in enumerate(lines):
        corr.feed(source, line)
        if i % 9 == 0:
            corr.timeout()  # provisional (open) revisions, as the processing-time timeout shows them
    corr.finish()
    return corr.emissions


def write_all(template_id: int, items: list, batch: int, settle_ms: int) -> SessionWriter:
    dialect, factory = connect(database_url_for_jobs())
    writer = SessionWriter(template_id, dialect, factory)
    writer.rollups.settle_ms = settle_ms
    try:
        for start in range(0, len(items), batch):
            writer.write(items[start:start + batch])
    finally:
        writer.close()
    return writer


def settle_all(template_id: int, now_ms: int, settle_ms: int) -> None:
    dialect, factory = connect(database_url_for_jobs())
    conn = factory()
    try:
        cur = conn.cursor()
        if dialect.name == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        RollupUpkeep(template_id, dialect.name, settle_ms=settle_ms).settle(cur, now_ms=now_ms)
        cur.execute("COMMIT") if dialect.name == "sqlite" else conn.commit()
    finally:
        conn.close()


def from_sessions(template_id: int) -> dict:
    """GROUP BY over the final sessions: (day, status, conclusion, severity, channel, region) → count, durations,
    completeness, histogram (a missing dimension value reads as '', as in the rollups)."""
    severity = {(c.session_id, c.name): c.severity for c in SessionConclusion.objects.filter(template_id=template_id)}
    values = dimension_values(template_id)
    groups: dict = defaultdict(lambda: [0, 0, 0, Counter()])
    for s in Session.objects.filter(template_id=template_id):
        key = (s.start_ms - s.start_ms % DAY_MS, s.status, s.primary_conclusion, severity.get((s.id, s.primary_conclusion), ""),
               values[s.id].get("channel") or "", values[s.id].get("region") or "")
        group = groups[key]
        group[0] += 1
        group[1] += s.duration_ms
        group[2] += round(s.completeness * 10_000)
        group[3][bucket_of(s.duration_ms)] += 1
    return {k: (n, d, c, dict(h)) for k, (n, d, c, h) in groups.items()}


def dimension_values(template_id: int) -> dict:
    values = defaultdict(dict)
    for f in SessionField.objects.filter(template_id=template_id, name__in=["channel", "region"]).order_by("id"):
        values[f.session_id].setdefault(f.name, f.str_value)
    return values


def hourly_from_sessions(template_id: int) -> dict:
    """Sessions per (UTC hour, conclusion, channel, region) over the final sessions."""
    values = dimension_values(template_id)
    return dict(Counter((s.start_ms - s.start_ms % HOUR, s.primary_conclusion, values[s.id].get("channel") or "",
                         values[s.id].get("region") or "") for s in Session.objects.filter(template_id=template_id)))


def hourly_from_hours_rows(template_id: int) -> dict:
    """The hours-of-day rollups spread back to (hour, conclusion, channel, region); zero counts left out."""
    groups: Counter = Counter()
    for r in RollupHours.objects.filter(template_id=template_id):
        counts = [getattr(r, column) for column in HOUR_COLUMNS]
        assert r.dim_names == "channel,region" and r.sessions == sum(counts)
        for hour, count in enumerate(counts):
            groups[(r.day_ms + hour * HOUR, r.conclusion, r.d1, r.d2)] += count
    return {k: n for k, n in groups.items() if n}


def without_status(groups: dict) -> dict:
    """from_sessions() summed over status and severity: what the day rows without them hold."""
    merged: dict = defaultdict(lambda: [0, 0, 0, Counter()])
    for (day, _status, conclusion, _severity, channel, region), (n, d, c, h) in groups.items():
        into = merged[(day, conclusion, channel, region)]
        into[0], into[1], into[2] = into[0] + n, into[1] + d, into[2] + c
        into[3].update(h)
    return {k: (n, d, c, {i: x for i, x in h.items() if x}) for k, (n, d, c, h) in merged.items()}


def from_day_rows(template_id: int) -> dict:
    """The day rows without status/severity, keyed like without_status(); zero rows left out."""
    groups = {}
    for r in RollupHours.objects.filter(template_id=template_id):
        histogram = {i: getattr(r, c) for i, c in enumerate(HISTOGRAM_COLUMNS) if getattr(r, c)}
        if r.sessions or r.duration_sum or r.completeness_e4 or histogram:
            groups[(r.day_ms, r.conclusion, r.d1, r.d2)] = (r.sessions, r.duration_sum, r.completeness_e4, histogram)
    return groups


def assert_days_total_the_day_rows(template_id: int) -> None:
    """The day rows without conclusion equal the day rows with it summed over conclusions, every column (those are
    checked against the final sessions): zero rows left out on both sides."""
    columns = ("sessions", "duration_sum", "completeness_e4", "open_sessions", *HISTOGRAM_COLUMNS, *HOUR_COLUMNS)
    summed: dict = defaultdict(lambda: [0] * len(columns))
    for r in RollupHours.objects.filter(template_id=template_id):
        into = summed[(r.day_ms, r.dim_names, r.d1, r.d2, r.d3)]
        for i, column in enumerate(columns):
            into[i] += getattr(r, column)
    held = {(r.day_ms, r.dim_names, r.d1, r.d2, r.d3): [getattr(r, c) for c in columns]
            for r in RollupDays.objects.filter(template_id=template_id)}
    assert {k: v for k, v in held.items() if any(v)} == {k: v for k, v in summed.items() if any(v)} and held


def assert_open_sessions_and_span(template_id: int, some_open: bool = False) -> None:
    """The day rows' open sessions equal a count over the final open sessions; the span covers every bucket held."""
    values = dimension_values(template_id)
    expected = Counter((s.start_ms - s.start_ms % DAY_MS, s.primary_conclusion, values[s.id].get("channel") or "",
                        values[s.id].get("region") or "") for s in Session.objects.filter(template_id=template_id, status="open"))
    held = {(r.day_ms, r.conclusion, r.d1, r.d2): r.open_sessions for r in RollupHours.objects.filter(template_id=template_id)}
    assert {k: n for k, n in held.items() if n} == dict(expected) and bool(expected) == some_open
    span = RollupSpan.objects.get(template_id=template_id)
    used = {i for r in [*Rollup.objects.filter(template_id=template_id), *RollupHours.objects.filter(template_id=template_id)]
            for i, c in enumerate(HISTOGRAM_COLUMNS) if getattr(r, c)}
    assert used and span.low <= min(used) and max(used) <= span.high


def from_rollups(template_id: int, grain: str = "d") -> dict:
    """Rollup rows summed up to (day, …); zero rows (everything retracted) left out."""
    groups: dict = defaultdict(lambda: [0, 0, 0, Counter()])
    for r in Rollup.objects.filter(template_id=template_id, grain=grain):
        assert r.dim_names == "channel,region"
        key = (r.bucket_ms - r.bucket_ms % DAY_MS, r.status, r.conclusion, r.severity, r.d1, r.d2)
        group = groups[key]
        group[0] += r.sessions
        group[1] += r.duration_sum
        group[2] += r.completeness_e4
        for i, count in enumerate(r.histogram):
            group[3][i] += count
    return {k: (n, d, c, {i: x for i, x in h.items() if x}) for k, (n, d, c, h) in groups.items() if n or d or c or any(h.values())}


def from_facts(template_id: int) -> dict:
    """The fact rows grouped like from_sessions (one row per session, so plain sums)."""
    names = fact_slots(["channel", "region"])
    groups: dict = defaultdict(lambda: [0, 0, 0, Counter()])
    for f in SessionFact.objects.filter(template_id=template_id):
        assert f.dim_key == dim_key(names) and (f.d3, f.d4, f.d5, f.d6) == ("", "", "", "")
        key = (f.start_ms - f.start_ms % DAY_MS, f.status, f.conclusion, f.severity, f.d1, f.d2)
        group = groups[key]
        group[0] += 1
        group[1] += f.duration_ms
        group[2] += f.completeness_e4
        group[3][f.duration_bucket] += 1
    return {k: (n, d, c, dict(h)) for k, (n, d, c, h) in groups.items()}


def assert_facts_mirror_the_sessions(template_id: int) -> None:
    assert from_facts(template_id) == from_sessions(template_id)
    facts = dict(SessionFact.objects.filter(template_id=template_id).values_list("session_id", "end_ms"))
    assert facts == dict(Session.objects.filter(template_id=template_id).values_list("id", "end_ms"))


def assert_sources_agree(template) -> None:
    """The planner's three sources give the same answer to a query all three hold (one value per field here)."""
    from analytics.query.spec import MacroQuery
    from analytics.services import macro

    base = dict(template=template.name, since_ms=T0 - T0 % DAY_MS, until_ms=T0 - T0 % DAY_MS + 2 * DAY_MS,
                dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "conclusion"}, {"kind": "field", "field": "channel"}])
    additive = [{"kind": "sessions"}, {"kind": "avg", "field": "duration"}, {"kind": "share", "conclusion": "lost_order"},
                {"kind": "completeness"}, {"kind": "percentile", "field": "duration", "p": 95}]
    rollups = macro.run(MacroQuery(**base, measures=additive, source="rollups"))
    facts = macro.run(MacroQuery(**base, measures=additive, source="facts"))
    assert (rollups.source, facts.source) == ("rollups", "facts")
    assert rollups.points() == facts.points() and len(rollups.points()) > 10
    fields = macro.run(MacroQuery(**base, measures=[{"kind": "sessions"}], source="fields"))
    assert fields.source == "fields" and fields.points() == [r[:4] for r in facts.points()]
    hours = macro.run(MacroQuery(**base, measures=[{"kind": "sessions"}], source="rollups"))
    assert "by start hour" in hours.reason and hours.points() == fields.points()
    assert rollups.provisional == facts.provisional == hours.provisional == fields.provisional  # from each one's own rows
    late = dict(base, since_ms=base["since_ms"] + 5 * HOUR, until_ms=base["until_ms"] - 7 * HOUR)  # not day-aligned
    hours, fields = (macro.run(MacroQuery(**late, measures=[{"kind": "sessions"}], source=s)) for s in ("rollups", "fields"))
    assert "by start hour" in hours.reason and hours.points() == fields.points() and len(hours.points()) > 5
    assert hours.provisional == fields.provisional
    daily = dict(base, dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "conclusion"}, {"kind": "field", "field": "channel"}])
    days, facts = (macro.run(MacroQuery(**daily, measures=additive, source=s)) for s in ("rollups", "facts"))
    assert "without status/severity" in days.reason and days.points() == facts.points() and len(days.points()) > 5
    by_channel = dict(base, dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}])
    totals, facts = (macro.run(MacroQuery(**by_channel, measures=additive[:2] + additive[3:], source=s)) for s in ("rollups", "facts"))
    assert "without conclusion" in totals.reason and totals.series == facts.series and totals.size > 2
    hourly = dict(base, dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "field", "field": "channel"}])
    totals, fields = (macro.run(MacroQuery(**hourly, measures=[{"kind": "sessions"}], source=s)) for s in ("rollups", "fields"))
    assert "without conclusion" in totals.reason and totals.series == fields.series and totals.size > 5
    assert totals.provisional == fields.provisional


def test_rollups_equal_a_group_by_over_the_final_sessions_and_a_replay_changes_nothing(demo_template, analytics_db):
    items = emissions(stream(60, seed=10))
    assert len({e.document["primary_conclusion"] for e in items}) >= 4
    writer = write_all(demo_template.pk, items, batch=7, settle_ms=0)
    expected = from_sessions(demo_template.pk)
    assert sum(v[0] for v in expected.values()) == Session.objects.filter(template=demo_template).count() > 40
    for grain in ("m", "h", "d"):
        assert from_rollups(demo_template.pk, grain) == expected, grain
    assert hourly_from_hours_rows(demo_template.pk) == hourly_from_sessions(demo_template.pk)
    assert from_day_rows(demo_template.pk) == without_status(expected)
    assert_days_total_the_day_rows(demo_template.pk)
    assert_open_sessions_and_span(demo_template.pk)
    assert_facts_mirror_the_sessions(demo_template.pk)
    stats = writer.rollups.stats
    assert stats.rows_written < stats.rows_uncombined
    print(f"rollup rows per session revision written: {stats.rows_written / stats.sessions:.2f} combined, "
          f"{stats.rows_uncombined / stats.sessions:.2f} without combining")

    # Re-sending every revision of the stored sessions (a restore replays them) changes nothing at all.
    rows_before = list(Rollup.objects.order_by("id").values_list("id", "sessions", "duration_sum", "completeness_e4"))
    stored = set(Session.objects.filter(template=demo_template).values_list("id", flat=True))
    write_all(demo_template.pk, [e for e in items if e.document["uid"] in stored], batch=7, settle_ms=0)
    assert list(Rollup.objects.order_by("id").values_list("id", "sessions", "duration_sum", "completeness_e4")) == rows_before

    # A restore from an older checkpoint replays every emission after it. This branch's writer resurrects a few
    # superseded fragments then (sessions table changes); whatever the sink keeps, the rollups equal it.
    sessions_before = sorted(Session.objects.filter(template=demo_template).values_list("id", "revision"))
    write_all(demo_template.pk, items[len(items) // 3:], batch=5, settle_ms=0)
    sessions_after = sorted(Session.objects.filter(template=demo_template).values_list("id", "revision"))
    print("sessions table changed by the replay:", sorted(set(sessions_after) ^ set(sessions_before)))
    assert from_rollups(demo_template.pk) == from_sessions(demo_template.pk)
    assert hourly_from_hours_rows(demo_template.pk) == hourly_from_sessions(demo_template.pk)
    assert from_day_rows(demo_template.pk) == without_status(from_sessions(demo_template.pk))
    assert_days_total_the_day_rows(demo_template.pk)
    assert_open_sessions_and_span(demo_template.pk)
    assert_facts_mirror_the_sessions(demo_template.pk)
    assert_sources_agree(demo_template)
    assert SessionContribution.objects.filter(template=demo_template).count() == Session.objects.filter(template=demo_template).count()


def test_provisional_sessions_enter_the_rollups_once_settled(demo_template):
    items = emissions(stream(25, seed=3))
    midway = items[: len(items) // 2]
    write_all(demo_template.pk, midway, batch=4, settle_ms=HOUR)
    sessions = Session.objects.filter(template=demo_template)
    assert sessions.filter(status="open").exists()
    pending = SessionContribution.objects.filter(template=demo_template, pending__isnull=False).count()
    counted = Rollup.objects.filter(template=demo_template, grain="d").aggregate(n=Sum("sessions"))["n"] or 0
    assert pending == sessions.filter(status="open").count()
    assert counted == sessions.exclude(status="open").count(), "open sessions wait; final ones count at once"
    assert_facts_mirror_the_sessions(demo_template.pk)  # the fact table mirrors open sessions at once

    settle_all(demo_template.pk, now_ms=2**42, settle_ms=HOUR)
    assert not SessionContribution.objects.filter(template=demo_template, pending__isnull=False).exists()
    assert from_rollups(demo_template.pk) == from_sessions(demo_template.pk)
    assert hourly_from_hours_rows(demo_template.pk) == hourly_from_sessions(demo_template.pk)
    assert_open_sessions_and_span(demo_template.pk, some_open=True)  # settled open sessions: counted as open
    assert_days_total_the_day_rows(demo_template.pk)
    write_all(demo_template.pk, items, batch=4, settle_ms=HOUR)  # the rest: every session ends final
    assert from_rollups(demo_template.pk) == from_sessions(demo_template.pk)
    assert_open_sessions_and_span(demo_template.pk)  # … and retracted from the open count once closed
    assert_days_total_the_day_rows(demo_template.pk)
    assert_facts_mirror_the_sessions(demo_template.pk)
