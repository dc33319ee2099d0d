"""The demo-data generator: determinism, the anomaly mix, bounded disorder, file handling, and — the point of
it all — agreement between its ground-truth manifest and what the real correlation logic makes of the files.
"""
import json
from collections import Counter, defaultdict
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import dig
from jobs.sessionize.logic.ordering import merge_in_time_order
from jobs.sessionize.logic.template import compile_template, document_fingerprint
from sessions.services import demo_data as dd

DEMO = Path(__file__).resolve().parent.parent / "sessions" / "demo" / "mobile-pay.json"
END_MS = int(datetime(2025, 11, 20, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)
START_MS = END_MS - 3 * dd.DAY
WINDOW_MS = 10 * dd.SECOND


def document():
    return json.loads(DEMO.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def template():
    return compile_template(document())


def generate(root: Path, orders: int, seed: int = 11, **options) -> dd.Summary:
    return dd.write_backlog(document(), root, orders=orders, seed=seed, start_ms=START_MS, end_ms=END_MS,
                            run_id="test", **options)


def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def event_time(template, source: str, line: str):
    src = template.sources[source]
    try:
        return src.parse_time(dig(json.loads(line), src.time_path))
    except Exception:
        return None


@pytest.fixture(scope="module")
def mix_5000(tmp_path_factory):
    root = tmp_path_factory.mktemp("mix")
    summary = generate(root, 5000, seed=5)
    return summary, dd.read_manifest(summary.manifest)


@pytest.fixture(scope="module")
def correlated(tmp_path_factory, template):
    """1,000 orders over three days fed through the in-memory Correlator in per-source watermark order."""
    root = tmp_path_factory.mktemp("correlated")
    summary = generate(root, 1000, seed=23)
    manifest = dd.read_manifest(summary.manifest)
    correlator = Correlator(template)
    streams = {s: read_lines(summary.files[s]) for s in dd.SOURCES}
    for source, line in merge_in_time_order(template, streams):
        correlator.feed(source, line)
    correlator.finish()
    return summary, manifest, correlator


# -- determinism ------------------------------------------------------------------------------------------
def test_a_seed_and_time_range_reproduce_the_files_byte_for_byte(tmp_path):
    first, second, other = (generate(tmp_path / name, 400, seed=seed) for name, seed in (("a", 7), ("b", 7), ("c", 8)))
    for source in dd.SOURCES:
        assert Path(first.files[source]).read_bytes() == Path(second.files[source]).read_bytes()
        assert Path(first.files[source]).read_bytes() != Path(other.files[source]).read_bytes()
    assert Path(first.manifest).read_bytes() == Path(second.manifest).read_bytes()


# -- the mix ----------------------------------------------------------------------------------------------
def test_anomaly_proportions_match_the_specified_mix_at_5000_orders(mix_5000):
    summary, manifest = mix_5000
    assert len(manifest.orders) == summary.orders == 5000
    counts = Counter(entry["anomaly"] for entry in manifest.orders)
    assert counts == Counter(manifest.summary["anomalies"])
    wanted = {dd.NORMAL: 0.75, dd.ABANDONED: 0.08, dd.INVALID_VOUCHER: 0.04, dd.LOST: 0.04,
              dd.DUPLICATE_DELIVERY: 0.03, dd.CALLBACK_MISSING: 0.03, dd.SPLIT: 0.02}
    for anomaly, share in wanted.items():
        sigma = (share * (1 - share) / 5000) ** 0.5
        assert abs(counts[anomaly] / 5000 - share) < 0.01 + 4 * sigma, (anomaly, counts[anomaly])
    lines = sum(manifest.summary["lines"].values())
    duplicates = sum(manifest.summary["duplicates"].values())
    malformed = sum(manifest.summary["malformed"].values())
    assert 0.007 < duplicates / lines < 0.013
    assert 0.003 < malformed / lines < 0.007
    assert 5.0 < lines / 5000 < 6.5  # ≈5–6 lines per order
    for source in dd.SOURCES:  # every source gets its share of damage, of every kind
        assert manifest.summary["malformed"][source] > 0
        assert set(manifest.summary["malformed_kinds"][source]) == set(dd.MALFORMED_KINDS)


def test_every_anomaly_promises_the_sessions_the_template_should_produce(mix_5000):
    _, manifest = mix_5000
    for entry in manifest.orders:
        assert entry["expected"] == [c for c, _ in dd.EXPECTED[entry["anomaly"]]]
        assert entry["split"] is (entry["anomaly"] == dd.SPLIT)
        assert (entry["trans_id"] is None) == (entry["anomaly"] == dd.ABANDONED)
    assert sum(e["sessions"] for e in manifest.orders) == manifest.summary["sessions"]
    by_split = Counter(tuple(e["expected"]) for e in manifest.orders if e["split"])
    assert set(by_split) == {("abandoned", "delivered")}


def test_channels_regions_and_amounts_are_skewed_and_from_the_price_list(mix_5000):
    _, manifest = mix_5000
    regions = Counter(e["region"] for e in manifest.orders)
    channels = Counter(e["channel"] for e in manifest.orders)
    assert set(regions) == {"cn-east", "cn-south", "sea", "eu", "na"}
    assert set(channels) == {"alipay", "wechat", "apple_iap", "google_play", "card"}
    assert regions.most_common(1)[0][0] == "cn-east" and regions["cn-east"] > 3 * regions["eu"]
    assert channels["alipay"] > 3 * channels["card"]
    for entry in manifest.orders:
        assert entry["amount"] in [a for a, _ in dd.PRICES[entry["currency"]]]
        assert entry["currency"] == dd.CURRENCY[entry["region"]]
    assert len({e["order_id"] for e in manifest.orders}) == 5000
    assert len({e["trans_id"] for e in manifest.orders if e["trans_id"]}) == sum(1 for e in manifest.orders if e["trans_id"])


# -- time: spread, bounded disorder -----------------------------------------------------------------------
def test_local_disorder_within_each_file_never_exceeds_the_shuffle_window(mix_5000, template):
    summary, _ = mix_5000
    assert WINDOW_MS < template.out_of_orderness_ms
    for source in dd.SOURCES:
        times = [t for t in (event_time(template, source, line) for line in read_lines(summary.files[source])) if t is not None]
        high, worst, behind = -(2**62), 0, 0
        for ts in times:
            if ts < high:
                behind += 1
                worst = max(worst, high - ts)
            high = max(high, ts)
        assert 0 < worst < WINDOW_MS, source  # shuffled, but only locally
        assert behind / len(times) < 0.25, source  # mostly in time order
        assert min(times) >= START_MS - dd.LOOKBACK_MS and max(times) <= END_MS, source


def test_orders_spread_over_the_whole_range_with_a_daily_rhythm(mix_5000):
    _, manifest = mix_5000
    created = [e["created_ms"] for e in manifest.orders]
    assert created == sorted(created)
    assert created[0] - START_MS < dd.HOUR and END_MS - created[-1] < dd.HOUR
    by_local_hour = Counter(((ms + dd.BILLING_OFFSET_MS) // dd.HOUR) % 24 for ms in created)
    assert by_local_hour[21] > 3 * by_local_hour[4]  # evening peak, pre-dawn trough (+08:00)


def test_the_time_range_is_respected_for_short_ranges_too(tmp_path, template):
    end = END_MS
    summary = dd.write_backlog(document(), tmp_path, orders=300, seed=2, start_ms=end - 10 * dd.MINUTE, end_ms=end, run_id="x")
    for source in dd.SOURCES:
        times = [t for t in (event_time(template, source, line) for line in read_lines(summary.files[source])) if t is not None]
        assert max(times) <= end
    manifest = dd.read_manifest(summary.manifest)
    assert not any(e["split"] for e in manifest.orders)  # no room for a 25-minute resume inside 10 minutes


# -- files ------------------------------------------------------------------------------------------------
def test_one_complete_file_per_source_under_its_location_and_the_manifest_beside_them(tmp_path):
    seen_while_writing = []

    def progress(done):
        seen_while_writing.append(sorted(p.name for p in (tmp_path / "mobile-pay" / "billing").iterdir()))

    summary = generate(tmp_path, 9000, progress=progress)
    assert seen_while_writing and seen_while_writing[0] == [".part-test.jsonl"]  # hidden while incomplete
    doc = document()
    for source in doc["sources"]:
        directory = tmp_path / source["location"]
        assert sorted(p.name for p in directory.iterdir()) == ["part-test.jsonl"]
        assert summary.files[source["name"]] == str(directory / "part-test.jsonl")
    assert summary.manifest == str(tmp_path / "mobile-pay" / "expected.jsonl")
    assert sorted(p.name for p in (tmp_path / "mobile-pay").iterdir()) == ["billing", "channel", "client", "expected.jsonl", "gamesvr"]
    for source in dd.SOURCES:
        assert len(read_lines(summary.files[source])) == summary.stats.lines[source]
    again = generate(tmp_path, 10)  # a second run never overwrites a file a job may have read
    assert again.files["billing"].endswith("part-test-2.jsonl")


def test_a_failed_generation_leaves_no_file_behind(tmp_path):
    def explode(done):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        generate(tmp_path, 9000, progress=explode)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_check_template_refuses_a_template_the_data_does_not_fit():
    doc = document()
    doc["sources"][0]["fields"]["order_id"] = "order.number"
    with pytest.raises(ValueError, match="billing"):
        dd.check_template(doc)
    doc = document()
    doc["conclusions"] = [c for c in doc["conclusions"] if c["name"] != "lost_order"]
    with pytest.raises(ValueError, match="lost_order"):
        dd.check_template(doc)
    dd.check_template(document())


# -- the real correlation logic agrees with the ground truth --------------------------------------------------
def test_malformed_lines_are_exactly_the_rejected_ones_with_sensible_reasons(correlated):
    summary, manifest, correlator = correlated
    rejected = Counter((r.source, r.raw) for r in correlator.rejected)
    assert rejected == Counter((m["source"], m["raw"]) for m in manifest.malformed)
    assert Counter(r.source for r in correlator.rejected) == {s: n for s, n in manifest.summary["malformed"].items() if n}
    kind_of = {(m["source"], m["raw"]): m["malformed"] for m in manifest.malformed}
    expected_reason = {"bad_json": ("bad JSON",), "bad_time": ("unparseable time",),
                       "missing_key": ("missing session key 'order_id'", "missing join field 'trans_id'")}
    for rejection in correlator.rejected:
        assert rejection.reason.startswith(expected_reason[kind_of[(rejection.source, rejection.raw)]]), rejection.reason
    assert len(manifest.malformed) >= 10 and {m["malformed"] for m in manifest.malformed} == set(dd.MALFORMED_KINDS)


def test_identical_lines_shipped_twice_count_once(correlated):
    summary, manifest, correlator = correlated
    assert sum(manifest.summary["duplicates"].values()) >= 20
    events = sum(n for (source, kind), n in correlator.counts.items() if kind == "Event")
    stored = [node for s in correlator.store.values() for node in s.document["nodes"]]
    assert len(stored) == events - sum(manifest.summary["duplicates"].values())
    assert len({node["uid"] for node in stored}) == len(stored)
    ignored = sum(n for (source, kind), n in correlator.counts.items() if kind == "Ignored")
    assert ignored == sum(manifest.summary["ignored"].values())


def test_every_order_gets_the_sessions_and_conclusions_the_manifest_expects(correlated):
    summary, manifest, correlator = correlated
    assert correlator.late == []
    assert correlator.orphans == []  # every callback and delivery has its verified baseline event
    by_key = defaultdict(list)
    for stored in correlator.store.values():
        by_key[stored.document["session_key"]].append(stored.document)
    assert set(by_key) == {e["order_id"] for e in manifest.orders}
    assert len(correlator.store) == manifest.summary["sessions"]
    wrong = []
    for entry in manifest.orders:
        sessions = sorted(by_key[entry["order_id"]], key=lambda d: d["start_ms"])
        got = ([d["primary_conclusion"] for d in sessions], [d["status"] for d in sessions], [d["split"] for d in sessions])
        want = (entry["expected"], entry["expected_status"], [entry["split"]] * entry["sessions"])
        if got != want:
            wrong.append((entry["order_id"], entry["anomaly"], want, got))
    assert wrong == []
    anomalies = Counter(e["anomaly"] for e in manifest.orders)
    assert all(anomalies[a] > 0 for a in dd.EXPECTED), anomalies  # the sample exercises every anomaly


def test_split_sessions_are_linked_and_supplements_join_the_resumed_half(correlated):
    summary, manifest, correlator = correlated
    docs = defaultdict(list)
    for stored in correlator.store.values():
        docs[stored.document["session_key"]].append(stored.document)
    splits = [e for e in manifest.orders if e["split"]]
    assert splits
    for entry in splits:
        first, second = sorted(docs[entry["order_id"]], key=lambda d: d["start_ms"])
        assert first["next_uid"] == second["uid"] and second["prev_uid"] == first["uid"]
        assert second["start_ms"] - first["end_ms"] > 20 * dd.MINUTE
        assert {n["node"] for n in first["nodes"]} == {"order", "pay_page"}
        assert {n["node"] for n in second["nodes"]} == {"pay_page", "voucher", "verified", "callback", "delivery"}


def test_duplicate_deliveries_are_two_distinct_records(correlated):
    summary, manifest, correlator = correlated
    keys = {e["order_id"] for e in manifest.orders if e["anomaly"] == dd.DUPLICATE_DELIVERY}
    assert keys
    for stored in correlator.store.values():
        doc = stored.document
        deliveries = [n for n in doc["nodes"] if n["node"] == "delivery"]
        assert len(deliveries) == (2 if doc["session_key"] in keys else len(deliveries))
        if doc["session_key"] in keys:
            assert deliveries[0]["raw"] != deliveries[1]["raw"] and doc["fields"]["deliveries"] == 2


# -- live feed --------------------------------------------------------------------------------------------
def test_the_live_feed_writes_a_new_small_file_per_source_each_tick_in_time_order(tmp_path, template):
    clock = [END_MS / 1000]
    feed = dd.LiveFeed(document(), tmp_path, seed=3, rate_per_s=2, run_id="live", first_seq=1000, now=lambda: clock[0])
    per_tick = []
    for _ in range(40):
        clock[0] += 5
        per_tick.append((clock[0] * 1000, feed.tick()))
    assert all(written for _, written in per_tick[2:])
    for source in dd.SOURCES:
        files = sorted((tmp_path / "mobile-pay" / source).iterdir())
        assert files and all(f.name.startswith("part-live-live-") for f in files)
        times = [event_time(template, source, line) for f in files for line in read_lines(str(f))]
        times = [t for t in times if t is not None]
        high = -(2**62)
        for ts in times:  # files continue each other's order within the shuffle window
            assert ts > high - WINDOW_MS
            high = max(high, ts)
        assert high <= clock[0] * 1000
    assert feed.pending() > 0  # orders still in flight are not written ahead of time


# -- the management command -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_command_imports_the_template_and_writes_the_files(tmp_path):
    from sessions.models import AnalysisTemplate

    out = StringIO()
    call_command("demo_data", orders=300, seed=9, data_dir=str(tmp_path), end="2025-11-20T12:00:00Z", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert "mobile-pay v1 imported" in text and "Wrote 300 orders" in text and "lines/s" in text
    version = AnalysisTemplate.objects.get(name="mobile-pay").current_version
    assert version.fingerprint == document_fingerprint(document()) and version.document == document()
    manifest = dd.read_manifest(tmp_path / "mobile-pay" / "expected.jsonl")
    assert manifest.summary["seed"] == 9 and manifest.summary["end_ms"] == END_MS and len(manifest.orders) == 300
    for source in document()["sources"]:
        assert len(list((tmp_path / source["location"]).glob("part-*.jsonl"))) == 1

    out = StringIO()
    call_command("demo_data", orders=10, seed=9, data_dir=str(tmp_path), stdout=out, stderr=StringIO())
    assert "already current" in out.getvalue()
    assert AnalysisTemplate.objects.get(name="mobile-pay").versions.count() == 1


@pytest.mark.django_db
def test_the_command_can_skip_the_import(tmp_path):
    from sessions.models import AnalysisTemplate

    call_command("demo_data", orders=20, seed=1, data_dir=str(tmp_path), no_import=True, stdout=StringIO())
    assert not AnalysisTemplate.objects.exists()
    assert (tmp_path / "mobile-pay" / "expected.jsonl").exists()


@pytest.mark.django_db
def test_the_import_falls_back_to_the_models_without_the_template_service(monkeypatch):
    import sessions.services.templates as service
    from sessions.models import TemplateVersion

    monkeypatch.delattr(service, "save_template_version")
    version, created = dd.import_template(document())
    assert created and version.number == 1 and version.fingerprint == document_fingerprint(document())
    again, created = dd.import_template(document())
    assert not created and again.pk == version.pk
    changed = document()
    changed["description"] = "v2"
    newer, created = dd.import_template(changed)
    assert created and newer.number == 2 and TemplateVersion.objects.count() == 2


def test_the_command_rejects_a_shuffle_window_the_template_cannot_absorb(tmp_path):
    with pytest.raises(CommandError, match="out_of_orderness"):
        call_command("demo_data", orders=10, data_dir=str(tmp_path), no_import=True, shuffle_window=30, stdout=StringIO())
