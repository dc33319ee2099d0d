"""build_tree / timeline: pure functions from template nodes + stored events to the display tree."""
import json
from dataclasses import dataclass

from sessions.services.tree import build_tree, pretty_json, timeline, walk

DOC_NODES = [
    {"name": "order", "source": "billing", "parent": None, "label": "Order created"},
    {"name": "pay_page", "source": "client", "parent": "order"},
    {"name": "verified", "source": "billing", "parent": "pay_page"},
    {"name": "callback", "source": "channel", "parent": "verified", "join": {"on": "trans_id"}},
    {"name": "delivery", "source": "gamesvr", "parent": "verified", "many": True, "join": {"on": "trans_id"}},
]


@dataclass
class Row:
    node: str
    seq: int
    source: str
    event_ms: int
    supplement: bool
    raw: str


def rows() -> list[Row]:
    return [
        Row("delivery", 1, "gamesvr", 1_095_000, True, '{"n": 2}'),
        Row("order", 0, "billing", 1_000_000, False, '{"type": "order_created"}'),
        Row("verified", 0, "billing", 1_032_500, False, "not json at all"),
        Row("delivery", 0, "gamesvr", 1_040_000, True, '{"n": 1}'),
    ]


def by_name(roots):
    return {node.name: node for node in walk(roots)}


def test_it_nests_nodes_under_their_parents_in_document_order():
    roots = build_tree(DOC_NODES, rows(), 1_000_000)
    assert [r.name for r in roots] == ["order"]
    nodes = by_name(roots)
    assert [c.name for c in nodes["order"].children] == ["pay_page"]
    assert [c.name for c in nodes["verified"].children] == ["callback", "delivery"]
    assert [n.name for n in walk(roots)] == ["order", "pay_page", "verified", "callback", "delivery"]


def test_it_marks_missing_nodes_and_keeps_them_in_the_tree():
    nodes = by_name(build_tree(DOC_NODES, rows(), 1_000_000))
    assert not nodes["pay_page"].present and not nodes["callback"].present
    assert nodes["order"].present and nodes["verified"].present


def test_a_many_node_carries_every_event_in_time_order_with_offsets():
    delivery = by_name(build_tree(DOC_NODES, rows(), 1_000_000))["delivery"]
    assert delivery.many and delivery.supplement and delivery.join_on == "trans_id"
    assert [(e.seq, e.offset_ms) for e in delivery.events] == [(0, 40_000), (1, 95_000)]


def test_labels_default_to_the_node_name():
    nodes = by_name(build_tree(DOC_NODES, [], 0))
    assert nodes["order"].label == "Order created"
    assert nodes["pay_page"].label == "pay_page"


def test_events_of_nodes_the_template_no_longer_has_are_shown_as_extra_roots():
    roots = build_tree(DOC_NODES, [*rows(), Row("refund", 0, "billing", 1_200_000, False, "{}")], 1_000_000)
    assert [r.name for r in roots] == ["order", "refund"]
    assert not roots[1].declared and roots[1].present


def test_a_cyclic_document_does_not_loop():
    cyclic = [{"name": "a", "source": "s", "parent": "b"}, {"name": "b", "source": "s", "parent": "a"}]
    assert sorted(r.name for r in build_tree(cyclic, [], 0)) == ["a", "b"]


def test_timeline_sorts_all_events_by_time():
    events = timeline(rows(), 1_000_000)
    assert [(e.node, e.offset_ms) for e in events] == [("order", 0), ("verified", 32_500), ("delivery", 40_000), ("delivery", 95_000)]


def test_raw_records_are_pretty_printed_when_json():
    assert json.loads(pretty_json('{"b": 1, "a": [1, 2]}')) == {"a": [1, 2], "b": 1}
    assert "\n" in pretty_json('{"b": 1, "a": 2}')
    assert pretty_json("not json at all") == "not json at all"
