"""Which saved versions a running job takes through its broadcast stream, and why others need a restart."""
import copy
import json

import pytest

from jobs.sessionize.logic.rollout import restart_reasons
from tests.factories import DEMO_PATH

DEMO = json.loads(DEMO_PATH.read_text())
SQL_RULES = "the nodes or node rules of source '{}' changed (the running job classifies them in SQL)"


def changed(mutate) -> dict:
    document = copy.deepcopy(DEMO)
    mutate(document)
    return document


@pytest.mark.parametrize("mutate", [
    lambda d: d["conclusions"].append({"name": "big", "when": "has(order) && order.amount > 100", "severity": "low"}),
    lambda d: d["nodes"][4]["join"].update(upper="+1h"),
    lambda d: d["session"].update(gap="10m", timeout="5s", complete_when=["order", "verified"]),
    lambda d: d["fields"].pop(),
    lambda d: d.update(description="new words", dimensions=["channel"]),
    lambda d: d["session"].update(out_of_orderness="30000ms"),  # the same bound, spelled differently
], ids=["conclusion", "join-bound", "session-timing", "field", "description", "same-bound"])
def test_rules_and_timings_are_hot_updatable(mutate):
    assert restart_reasons(DEMO, changed(mutate)) == []


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d["sources"].append({**d["sources"][0], "name": "refunds", "location": "x/refunds"}), "source 'refunds' was added"),
    (lambda d: d["sources"].pop(), "source 'gamesvr' was removed"),
    (lambda d: d["sources"][0]["fields"].update(order_id="order.no"), "source 'billing' changed its fields"),
    (lambda d: d["sources"][1]["time"].update(format="epoch_s"), "source 'client' changed its time"),
    (lambda d: d["sources"][2].update(location="elsewhere"), "source 'channel' changed its location"),
    (lambda d: d["session"].update(key="trans_id"), "the session key changed from 'order_id' to 'trans_id'"),
    (lambda d: d["session"].update(out_of_orderness="1m"), "out_of_orderness changed (it is the sources' watermark bound)"),
    (lambda d: d["nodes"][1].update(when="event == 'pay_page_shown'"), SQL_RULES.format("client")),
    (lambda d: d["nodes"].insert(1, {**d["nodes"][1], "name": "pay_page_2"}), SQL_RULES.format("client")),
    (lambda d: d["nodes"][4].update(when="channel_status == 'ok'"), SQL_RULES.format("channel")),
], ids=["source-added", "source-removed", "fields", "time", "location", "key", "watermark", "node-rule", "node-added",
        "supplement-rule"])
def test_shape_changes_need_a_restart_and_say_which(mutate, reason):
    assert restart_reasons(DEMO, changed(mutate)) == [reason]


def test_every_reason_is_listed():
    document = changed(lambda d: (d["sources"].pop(), d["session"].update(key="trans_id")))
    assert len(restart_reasons(DEMO, document)) == 2


def test_node_rules_are_hot_where_python_classifies():
    """Without SQL classification (Python engine), or for a source whose time SQL cannot read, Python parses the
    lines with the newest version: a rule change needs no restart."""
    rule = lambda d: d["nodes"][1].update(when="event == 'pay_page_shown'")  # noqa: E731
    assert restart_reasons(DEMO, changed(rule), sql_classified=False) == []
    python_timed = changed(lambda d: d["sources"][1].update(time={"path": "ts", "format": "%d/%m/%Y %H:%M:%S"}))
    assert restart_reasons(python_timed, changed(lambda d: (d["sources"][1].update(time=python_timed["sources"][1]["time"]),
                                                           rule(d)))) == []
