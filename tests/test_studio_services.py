"""Studio services: samples and time formats, step validation messages, rule checks, dry run."""
import copy

import pytest

from studio.services import checks, drafts, dry_run, samples
from tests.studio_support import demo_logs  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def test_samples_give_dotted_paths_and_the_time_format_of_each_demo_source(demo_logs, demo_document):
    records = samples.parsed(samples.read_lines("mobile-pay/billing"))
    paths = dict(samples.leaf_paths(records[0]))
    assert "order.id" in paths and "order.amount.value" in paths
    for source in demo_document["sources"]:
        recs = samples.parsed(samples.read_lines(source["location"]))
        assert samples.suggest_format(recs, source["time"]["path"]) == source["time"]["format"], source["name"]


def test_a_time_format_that_fails_on_the_samples_lists_the_failing_rows(demo_logs):
    records = samples.parsed(samples.read_lines("mobile-pay/client"))
    rows = samples.time_rows(records, "ts", "iso8601")
    assert rows and all(row.error for row in rows)
    assert "ISO-8601" in rows[0].error
    good = samples.time_rows(records, "ts", "epoch_ms")
    assert not any(row.error for row in good) and good[0].iso.endswith("+00:00")


@pytest.mark.parametrize("location", ["/etc", "../../", "mobile-pay/nowhere"])
def test_samples_stay_under_the_data_root(demo_logs, location):
    with pytest.raises(samples.SampleError):
        samples.read_lines(location)


def test_a_cycle_is_explained(demo_document):
    doc = copy.deepcopy(demo_document)
    doc["nodes"][0]["parent"] = "delivery"
    errors = drafts.step_errors(doc, "tree")
    assert any("cycle" in e and "give one node of the loop another parent" in e for e in errors)


def test_a_supplement_without_a_baseline_owner_of_its_join_field_is_explained(demo_document):
    doc = copy.deepcopy(demo_document)
    doc["sources"][0]["fields"].pop("trans_id")
    doc["sources"][1]["fields"].pop("trans_id")
    errors = drafts.step_errors(doc, "tree")
    assert any("no baseline source carries 'trans_id'" in e and "Sources step" in e for e in errors), errors


def test_the_sources_step_is_checked_before_any_node_exists(demo_logs, demo_document):
    doc = {"name": "x", "sources": demo_document["sources"]}
    assert drafts.step_errors(doc, "sources") == []
    doc["sources"] = [dict(demo_document["sources"][0], location="/etc")]
    assert any("outside the allowed data roots" in e for e in drafts.step_errors(doc, "sources"))


def test_a_bad_expression_is_refused_with_its_column(demo_logs, demo_document):
    result = checks.check(demo_document, "conclusion", "has(delivery) && delivery.cont > 1")
    assert result.errors[0]["column"] == 27 and "its fields" in result.errors[0]["message"]
    syntax = checks.check(demo_document, "field", "order.amount +")
    assert syntax.errors[0]["column"] == 15
    bad_path = checks.check(demo_document, "when", "typo == 'x'", "order")
    assert "unknown name 'typo' at column 1" in bad_path.errors[0]["message"]


def test_a_good_expression_shows_its_value_on_the_sample_sessions(demo_logs, demo_document):
    result = checks.check(demo_document, "conclusion", "has(delivery) && delivery.count > 1")
    assert not result.errors and len(result.values) == checks.MAX_VALUES
    assert {v["value"] for v in result.values} <= {True, False}
    when = checks.check(demo_document, "when", "type == 'order_created'", "order")
    assert True in {v["value"] for v in when.values} and False in {v["value"] for v in when.values}


def test_session_context_matches_what_the_job_concluded(demo_logs, demo_document):
    run = dry_run.run(demo_document)
    for doc in run.sessions:
        context = checks.session_context(run.template, doc)
        for rule in run.template.conclusions:
            held = rule.when.evaluate(checks.new_context(context))
            assert (held is True) == any(c["name"] == rule.name for c in doc["conclusions"]), (doc["session_key"], rule.name)


def test_dry_run_counts_sessions_conclusions_and_rejections(demo_logs, demo_document):
    run = dry_run.run(demo_document)
    assert len(run.sessions) >= 40 and run.lines > 200
    assert sum(run.conclusions.values()) >= len(run.sessions) - 5
    assert all(":" in reason for reason in run.rejected)


def test_dry_run_is_bounded_in_lines(demo_logs, demo_document):
    run = dry_run.run(demo_document, lines_per_source=10)
    assert run.lines <= 40 and "first 10 lines" in run.truncated


def test_a_rule_reading_a_computed_field_sees_its_real_value(demo_logs, demo_document):
    values = [v["value"] for v in checks.check(demo_document, "conclusion", "pay_ms").values]
    assert any(isinstance(v, float) and v > 0 for v in values), values
