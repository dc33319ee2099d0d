"""Template validation (SPEC §2): the demo compiles; every bad document gets clear, located errors."""
import pytest

from jobs.sessionize.logic.expressions import ExpressionError, compile_expression
from jobs.sessionize.logic.template import TemplateError, compile_template, document_fingerprint
from tests.flows import HOUR, MINUTE, SECOND, demo_document, demo_template, mutated


def errors_of(change) -> list[str]:
    with pytest.raises(TemplateError) as excinfo:
        compile_template(mutated(change))
    assert excinfo.value.errors, "a TemplateError must list its problems"
    assert str(excinfo.value) == "; ".join(excinfo.value.errors)
    return excinfo.value.errors


def node(doc, name):
    return next(n for n in doc["nodes"] if n["name"] == name)


def source(doc, name):
    return next(s for s in doc["sources"] if s["name"] == name)


# -- the demo ------------------------------------------------------------------------------------------------------
def test_the_demo_template_compiles():
    tpl = compile_template(demo_document())
    assert tpl.name == "mobile-pay"
    assert tpl.session_key == "order_id"
    assert (tpl.gap_ms, tpl.timeout_ms, tpl.lateness_ms, tpl.out_of_orderness_ms) == (20 * MINUTE, 30 * SECOND, 2 * HOUR, 30 * SECOND)
    assert tpl.complete_when == ("order", "verified", "callback", "delivery")
    assert list(tpl.nodes) == ["order", "pay_page", "voucher", "verified", "callback", "delivery"]
    assert tpl.join_fields == ("trans_id",)
    assert tpl.dimensions == ["channel", "region"]
    assert [f.name for f in tpl.fields] == ["amount_value", "pay_ms", "deliver_ms", "deliveries"]
    assert [c.name for c in tpl.conclusions][0] == "abandoned"


def test_it_compiles_joins_and_supplement_flags():
    tpl = demo_template()
    assert tpl.nodes["callback"].join.lower_ms == -5 * MINUTE
    assert tpl.nodes["callback"].join.upper_ms == 30 * MINUTE
    assert tpl.nodes["delivery"].many and tpl.nodes["delivery"].is_supplement
    assert not tpl.nodes["order"].is_supplement
    assert tpl.max_join_reach_ms == 2 * HOUR


def test_it_groups_nodes_by_source_in_declaration_order():
    tpl = demo_template()
    assert [n.name for n in tpl.sources["client"].nodes] == ["pay_page", "voucher"]
    assert [n.name for n in tpl.sources["billing"].nodes] == ["order", "verified"]
    assert tpl.sources["billing"].fields["amount"] == ("order", "amount", "value")
    assert tpl.sources["billing"].time_path == ("time",)


def test_labels_default_to_names():
    doc = demo_document()
    node(doc, "order").pop("label")
    doc["conclusions"][0]["label"] = ""
    tpl = compile_template(doc)
    assert tpl.nodes["order"].label == "order"
    assert tpl.conclusions[0].label == "abandoned"


def test_session_settings_have_defaults():
    doc = demo_document()
    doc["session"] = {"key": "order_id"}
    tpl = compile_template(doc)
    assert (tpl.gap_ms, tpl.timeout_ms, tpl.lateness_ms, tpl.out_of_orderness_ms) == (20 * MINUTE, 30 * SECOND, 2 * HOUR, 10 * SECOND)
    assert tpl.complete_when == ()


def test_extra_keys_are_allowed():
    doc = demo_document()
    doc["owner"] = "risk-team"
    node(doc, "order")["colour"] = "blue"
    compile_template(doc)


def test_the_fingerprint_follows_the_document_not_its_key_order():
    doc = demo_document()
    reordered = dict(reversed(list(doc.items())))
    assert document_fingerprint(doc) == document_fingerprint(reordered)
    changed = mutated(lambda d: d["session"].update(gap="25m"))
    assert document_fingerprint(changed) != document_fingerprint(doc)
    assert compile_template(doc).fingerprint == document_fingerprint(doc)


# -- one located error per problem ------------------------------------------------------------------------------
def test_it_rejects_an_unknown_source():
    errors = errors_of(lambda d: node(d, "pay_page").update(source="weblog"))
    assert "nodes.pay_page.source: unknown source 'weblog'" in errors


def test_it_rejects_an_unknown_parent():
    assert errors_of(lambda d: node(d, "pay_page").update(parent="cart")) == ["nodes.pay_page.parent: unknown node 'cart'"]


def test_it_rejects_a_cycle():
    def change(d):
        node(d, "pay_page")["parent"] = "verified"

    errors = errors_of(change)
    assert any(e.startswith("nodes.pay_page.parent: the tree has a cycle") for e in errors)
    assert any(e.startswith("nodes.verified.parent: the tree has a cycle") for e in errors)
    assert not any(e.startswith("nodes.order.") for e in errors)  # the root is not part of it


def test_it_rejects_a_tree_without_root():
    errors = errors_of(lambda d: node(d, "order").update(parent="delivery"))
    assert "nodes: the tree needs a root (a node with parent null)" in errors


def test_it_rejects_a_tree_of_supplements_only():
    def change(d):
        d["nodes"] = [n for n in d["nodes"] if "join" in n]
        for n in d["nodes"]:
            n["parent"] = None
        d["session"]["complete_when"] = []

    errors = errors_of(change)
    assert "nodes: at least one baseline node (without join) is needed to open sessions" in errors


def test_it_rejects_a_baseline_source_without_the_session_key():
    errors = errors_of(lambda d: source(d, "client")["fields"].pop("order_id"))
    assert "nodes.pay_page: baseline node's source 'client' has no session key field 'order_id'" in errors
    assert "nodes.voucher: baseline node's source 'client' has no session key field 'order_id'" in errors
    assert len(errors) == 2


def test_it_rejects_a_supplement_whose_source_lacks_the_join_field():
    errors = errors_of(lambda d: source(d, "channel")["fields"].pop("trans_id"))
    assert errors == ["nodes.callback.join.on: source 'channel' has no field 'trans_id'"]


def test_it_rejects_a_join_field_no_baseline_source_carries():
    def change(d):
        source(d, "billing")["fields"].pop("trans_id")
        source(d, "client")["fields"].pop("trans_id")

    errors = errors_of(change)
    assert "nodes.callback.join.on: no baseline source carries 'trans_id'" in errors
    assert "nodes.delivery.join.on: no baseline source carries 'trans_id'" in errors


def test_it_rejects_a_join_whose_lower_bound_is_after_its_upper_bound():
    errors = errors_of(lambda d: node(d, "callback")["join"].update(lower="+40m"))
    assert errors == ["nodes.callback.join: lower bound +40m is after upper bound +30m"]


def test_it_rejects_a_bad_join_duration():
    errors = errors_of(lambda d: node(d, "delivery")["join"].update(upper="2 hours"))
    assert len(errors) == 1
    assert errors[0].startswith("nodes.delivery.join: bad duration '2 hours'")


@pytest.mark.parametrize("setting", ["gap", "timeout", "allowed_lateness", "out_of_orderness"])
def test_it_rejects_a_bad_session_duration(setting):
    errors = errors_of(lambda d: d["session"].update({setting: "soon"}))
    assert errors == [f"session.{setting}: bad duration 'soon': expected e.g. '500ms', '30s', '-5m', '+2h', '1d'"]


@pytest.mark.parametrize(("setting", "value"), [("gap", "0s"), ("gap", "-20m"), ("timeout", "-1s"), ("allowed_lateness", "-1h")])
def test_it_rejects_non_positive_session_durations(setting, value):
    assert errors_of(lambda d: d["session"].update({setting: value})) == [f"session.{setting}: must be positive"]


def test_zero_lateness_and_zero_out_of_orderness_are_allowed():
    compile_template(mutated(lambda d: d["session"].update(allowed_lateness="0s", out_of_orderness="0s")))


def test_it_rejects_a_bad_time_format_without_a_cascade_of_errors():
    errors = errors_of(lambda d: source(d, "billing")["time"].update(format="yyyy-MM-dd HH:mm:ss"))
    assert errors == [
        "sources.billing.time: bad time format 'yyyy-MM-dd HH:mm:ss': use epoch_s, epoch_ms, iso8601 or a strftime pattern"
    ]


def test_it_rejects_a_bad_time_zone_as_a_template_error():
    assert errors_of(lambda d: source(d, "billing")["time"].update(tz="Asia/Shanghai")) == [
        "sources.billing.time: bad time zone 'Asia/Shanghai': expected an offset like '+08:00'"
    ]
    assert errors_of(lambda d: source(d, "billing")["time"].update(tz="   ")) == [
        "sources.billing.time: bad time zone '   ': expected an offset like '+08:00'"
    ]


def test_it_rejects_bad_cel_in_a_node_when_naming_the_rule():
    errors = errors_of(lambda d: node(d, "pay_page").update(when="event == "))
    assert len(errors) == 1
    assert errors[0].startswith("nodes.pay_page.when: ")
    assert "Syntax error" in errors[0]


def test_it_rejects_bad_cel_in_a_field_expr_naming_the_rule():
    errors = errors_of(lambda d: d["fields"][1].update(expr="verified.ts - - "))
    assert len(errors) == 1 and errors[0].startswith("fields.pay_ms.expr: ")


def test_it_rejects_bad_cel_in_a_conclusion_naming_the_rule():
    errors = errors_of(lambda d: d["conclusions"][2].update(when="has(verified) && (verified.result == 'OK'"))
    assert len(errors) == 1 and errors[0].startswith("conclusions.lost_order.when: ")


def test_it_rejects_an_empty_expression():
    errors = errors_of(lambda d: d["conclusions"][0].update(when="  "))
    assert errors == ["conclusions.abandoned.when: expression is empty"]


def test_it_rejects_duplicate_node_names():
    assert errors_of(lambda d: d["nodes"].append(dict(node(d, "voucher")))) == ["nodes.voucher: duplicate node name"]


def test_it_rejects_duplicate_source_names():
    assert errors_of(lambda d: d["sources"].append(dict(source(d, "client")))) == ["sources.client: duplicate source name"]


def test_it_rejects_duplicate_conclusion_names():
    assert errors_of(lambda d: d["conclusions"].append(dict(d["conclusions"][0]))) == ["conclusions.abandoned: duplicate conclusion name"]


@pytest.mark.parametrize("name", ["deliver_ms", "order", "nodes", "session"])
def test_it_rejects_field_names_that_clash(name):
    errors = errors_of(lambda d: d["fields"].append({"name": name, "expr": "1", "type": "number"}))
    assert errors == [f"fields.{name}: name clashes with a node, another field or a reserved word"]


def test_it_rejects_an_unknown_complete_when_node():
    assert errors_of(lambda d: d["session"]["complete_when"].append("refund")) == ["session.complete_when: unknown node 'refund'"]


def test_it_rejects_an_unknown_dimension():
    assert errors_of(lambda d: d["dimensions"].append("planet")) == [
        "dimensions: 'planet' is neither a source field nor a computed field"
    ]


def test_a_computed_field_can_be_a_dimension():
    compile_template(mutated(lambda d: d["dimensions"].append("deliveries")))


def test_it_rejects_bad_field_aliases():
    errors = errors_of(lambda d: source(d, "gamesvr")["fields"].update({"item sku": "item.sku", "role_id": " "}))
    assert "sources.gamesvr.fields.item sku: field names must be identifiers with a non-empty path" in errors
    assert "sources.gamesvr.fields.role_id: field names must be identifiers with a non-empty path" in errors


# -- shape errors (pydantic) are located too -------------------------------------------------------------------
def test_it_locates_shape_errors():
    def change(d):
        d.pop("session")
        node(d, "order")["name"] = "order created"
        d["conclusions"][0]["severity"] = "urgent"
        d["sources"][0]["format"] = "csv"

    errors = errors_of(change)
    assert "session: Field required" in errors
    assert any(e.startswith("nodes.0.name: String should match pattern") for e in errors)
    assert any(e.startswith("conclusions.0.severity: Input should be") for e in errors)
    assert any(e.startswith("sources.0.format: Input should be 'json'") for e in errors)


def test_it_requires_sources_and_nodes():
    errors = errors_of(lambda d: d.update(sources=[], nodes=[]))
    assert any(e.startswith("sources: List should have at least 1 item") for e in errors)
    assert any(e.startswith("nodes: List should have at least 1 item") for e in errors)


def test_a_non_object_document_is_a_template_error():
    with pytest.raises(TemplateError) as excinfo:
        compile_template(["not", "a", "template"])
    assert excinfo.value.errors


# -- everything at once ------------------------------------------------------------------------------------------
def test_it_reports_several_errors_together():
    def change(d):
        node(d, "pay_page")["source"] = "weblog"
        d["session"]["gap"] = "forever"
        node(d, "callback")["join"]["lower"] = "+1h"
        d["fields"][0]["expr"] = "order.amount +"
        d["conclusions"][1]["when"] = "&&"
        d["session"]["complete_when"].append("refund")
        d["dimensions"].append("planet")

    errors = errors_of(change)
    expected_prefixes = [
        "nodes.pay_page.source: unknown source 'weblog'",
        "session.gap: bad duration 'forever'",
        "nodes.callback.join: lower bound +1h is after upper bound +30m",
        "fields.amount_value.expr: ",
        "conclusions.invalid_voucher.when: ",
        "session.complete_when: unknown node 'refund'",
        "dimensions: 'planet' is neither",
    ]
    for prefix in expected_prefixes:
        assert any(e.startswith(prefix) for e in errors), f"missing {prefix!r} in {errors}"


# -- expressions (more in test_logic_expressions.py) ----------------------------------------------------------
def test_an_expression_error_names_where_it_is():
    with pytest.raises(ExpressionError, match=r"^conclusions\.x\.when: "):
        compile_expression("1 +", "conclusions.x.when")
    with pytest.raises(ExpressionError, match="expression is empty"):
        compile_expression("", "fields.y.expr")
