"""One raw line → Event | Rejection | Ignored (SPEC §3): nothing is dropped silently, raw lines are kept."""
import json
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.sessionize.logic import records
from jobs.sessionize.logic.records import Event, Ignored, Rejection, dig, field_values, line_uid, load_record, parse_line
from jobs.sessionize.logic.template import compile_template
from tests.flows import (
    T0,
    callback_line,
    client_line,
    delivery_line,
    demo_template,
    mutated,
    order_line,
    pay_page_line,
    verified_line,
    voucher_line,
)


def parse(line, origin=""):
    source, text = line
    return parse_line(demo_template(), source, text, origin)


def rejected(source, text):
    result = parse_line(demo_template(), source, text, "events/x.jsonl:7")
    assert isinstance(result, Rejection), result
    assert result.source == source
    assert result.raw == text
    assert result.origin == "events/x.jsonl:7"
    return result.reason


# -- rejections -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ['{"time": ', "not json at all", '{"a": 1,}', "{'single': 'quotes'}"])
def test_it_rejects_bad_json(text):
    assert rejected("billing", text).startswith("bad JSON: ")


@pytest.mark.parametrize(("text", "kind"), [("[1, 2]", "list"), ('"text"', "str"), ("42", "int"), ("null", "NoneType")])
def test_it_rejects_json_that_is_not_an_object(text, kind):
    assert rejected("client", text) == f"bad JSON: expected an object, got {kind}"


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_it_rejects_an_empty_line(text):
    assert rejected("client", text) == "empty line"


def test_it_rejects_a_record_without_time():
    assert rejected("client", '{"oid": "O1", "event": "pay_page_open"}') == "missing time at 'ts'"
    assert rejected("billing", '{"time": null, "type": "order_created", "order": {"id": "O1"}}') == "missing time at 'time'"


@pytest.mark.parametrize(
    ("source", "record"),
    [
        ("billing", {"time": "2024-05-01T10:00:00", "type": "order_created", "order": {"id": "O1"}}),
        ("billing", {"time": 1714528800, "type": "order_created", "order": {"id": "O1"}}),
        ("client", {"ts": "yesterday", "oid": "O1", "event": "pay_page_open"}),
        ("client", {"ts": True, "oid": "O1", "event": "pay_page_open"}),
        ("client", {"ts": {"ms": 1}, "oid": "O1", "event": "pay_page_open"}),
        ("channel", {"notify_time": "31/12/2024", "transaction": {"id": "T1"}}),
        ("gamesvr", {"t": "soon", "trans_id": "T1"}),
    ],
)
def test_it_rejects_an_unparseable_time(source, record):
    reason = rejected(source, json.dumps(record))
    assert reason.startswith("unparseable time ")


def test_it_rejects_infinite_and_overflowing_times_without_raising():
    assert rejected("gamesvr", '{"t": Infinity, "trans_id": "T1"}').startswith("unparseable time 'Infinity'")
    assert rejected("client", '{"ts": NaN, "oid": "O1", "event": "pay_page_open"}').startswith("unparseable time 'NaN'")
    assert rejected("gamesvr", '{"t": 1e300, "trans_id": "T1"}').startswith("unparseable time")


def test_the_unparseable_time_reason_shows_the_value():
    reason = rejected("client", json.dumps({"ts": "yesterday", "oid": "O1", "event": "pay_page_open"}))
    assert "'yesterday'" in reason


@pytest.mark.parametrize("order", [None, {}, {"id": None}, {"id": ""}])
def test_it_rejects_a_baseline_record_without_the_session_key(order):
    record = {"time": "2024-05-01 10:00:00.000000", "type": "order_created"}
    if order is not None:
        record["order"] = order
    assert rejected("billing", json.dumps(record)) == "missing session key 'order_id' for node 'order'"


def test_it_rejects_a_client_event_without_order_id():
    _, text = client_line(T0, None, "pay_page_open")
    assert rejected("client", text) == "missing session key 'order_id' for node 'pay_page'"


@pytest.mark.parametrize("transaction", [None, {}, {"id": ""}])
def test_it_rejects_a_supplement_without_its_join_field(transaction):
    record = {"notify_time": "2024-05-01T02:00:00Z", "status": "SUCCESS"}
    if transaction is not None:
        record["transaction"] = transaction
    assert rejected("channel", json.dumps(record)) == "missing join field 'trans_id' for supplement node 'callback'"


def test_reasons_are_bounded_in_length():
    text = '{"time": "' + "x" * 5000 + '", "type": "order_created", "order": {"id": "O1"}}'
    reason = rejected("billing", text)
    assert len(reason) <= 500
    assert reason.startswith("unparseable time")


def test_the_raw_line_is_kept_exactly_even_with_surrounding_whitespace():
    text = '  {"oops": \n'
    result = parse_line(demo_template(), "client", text)
    assert isinstance(result, Rejection) and result.raw == text


def test_it_never_raises_on_odd_input():
    for text in ["\x00", "\ufeff{}", "{" * 10_000, '{"ts": []}', '{"ts": 1, "oid": {"deep": [1, 2]}, "event": "pay_page_open"}']:
        assert isinstance(parse_line(demo_template(), "client", text), (Event, Rejection, Ignored))


# -- events ----------------------------------------------------------------------------------------------------
def test_it_extracts_nested_paths_and_parses_the_sources_time():
    event = parse(order_line(T0 + 250, "O1", amount=30.0, channel="wechat", region="cn-south", user_id="u9"), origin="f:1")
    assert isinstance(event, Event)
    assert (event.source, event.node, event.ts, event.session_key) == ("billing", "order", T0 + 250, "O1")
    assert event.values == {
        "order_id": "O1", "type": "order_created", "amount": 30.0, "currency": "CNY", "channel": "wechat",
        "region": "cn-south", "user_id": "u9",
    }
    assert event.supplement is False and event.join_key is None and event.joins == {}
    assert event.origin == "f:1"


def test_absent_optional_fields_are_left_out():
    event = parse(pay_page_line(T0, "O1"))
    assert "trans_id" not in event.values
    assert event.joins == {}


def test_a_baseline_event_carries_its_join_values():
    event = parse(voucher_line(T0, "O1", "T-9"))
    assert event.node == "voucher"
    assert event.joins == {"trans_id": "T-9"}
    assert event.values["trans_id"] == "T-9"


def test_numeric_keys_are_text():
    _, text = order_line(T0, "O1")
    record = json.loads(text)
    record["order"]["id"] = 12345
    event = parse_line(demo_template(), "billing", json.dumps(record))
    assert event.session_key == "12345"
    assert event.values["order_id"] == 12345  # the value itself keeps its JSON type


def test_a_supplement_event_carries_its_join_key_only():
    event = parse(callback_line(T0, "T-1", status="FAIL"))
    assert isinstance(event, Event)
    assert (event.node, event.supplement, event.session_key, event.join_key) == ("callback", True, None, "T-1")
    assert event.values == {"trans_id": "T-1", "channel_status": "FAIL", "paid_amount": 6.0}


def test_epoch_seconds_keep_milliseconds():
    assert parse(delivery_line(T0 + 123, "T-1")).ts == T0 + 123


def test_nested_objects_become_compact_json_text():
    tpl = compile_template(mutated(lambda d: d["sources"][1]["fields"].update(device_all="device")))
    _, text = pay_page_line(T0, "O1")
    event = parse_line(tpl, "client", text)
    assert event.values["device_all"] == '{"app":"3.2.1","model":"P40"}'


def test_dig_follows_objects_and_list_indexes():
    record = {"a": {"b": [{"c": 1}, {"c": 2}]}, "n": None}
    assert dig(record, ("a", "b", "1", "c")) == 2
    assert dig(record, ("a", "b", "5", "c")) is None
    assert dig(record, ("a", "x", "c")) is None
    assert dig(record, ("n", "c")) is None
    assert dig(record, ("a", "b", "c")) is None
    assert dig({"z": 0}, ("z",)) == 0


# -- classification ------------------------------------------------------------------------------------------------
def test_it_classifies_by_when():
    assert parse(pay_page_line(T0, "O1")).node == "pay_page"
    assert parse(voucher_line(T0, "O1", "T-1")).node == "voucher"
    assert parse(order_line(T0, "O1")).node == "order"
    assert parse(verified_line(T0, "O1", "T-1")).node == "verified"


def test_it_ignores_a_client_event_no_node_uses():
    result = parse(client_line(T0, "O1", "login"))
    assert isinstance(result, Ignored)
    assert result.source == "client"
    assert result.uid == line_uid("client", client_line(T0, "O1", "login")[1])


def test_an_ignored_record_needs_no_session_key():
    assert isinstance(parse(client_line(T0, None, "app_start")), Ignored)


def test_a_record_lacking_the_when_field_is_ignored_not_an_error():
    assert isinstance(parse_line(demo_template(), "client", json.dumps({"ts": T0, "oid": "O1"})), Ignored)


def test_the_first_matching_node_in_declaration_order_wins():
    def change(d):
        d["nodes"].insert(2, {"name": "any_client", "source": "client", "parent": "order", "when": "ts > 0"})

    tpl = compile_template(mutated(change))
    _, text = voucher_line(T0, "O1", "T-1")
    assert parse_line(tpl, "client", text).node == "any_client"  # declared before voucher
    _, text = pay_page_line(T0, "O1")
    assert parse_line(tpl, "client", text).node == "pay_page"  # declared before any_client


def test_when_can_use_the_event_time():
    def change(d):
        d["nodes"][1]["when"] = f"event == 'pay_page_open' && ts >= {T0 + 1000}"

    tpl = compile_template(mutated(change))
    assert isinstance(parse_line(tpl, "client", pay_page_line(T0, "O1")[1]), Ignored)
    assert parse_line(tpl, "client", pay_page_line(T0 + 1000, "O1")[1]).node == "pay_page"


# -- identity ----------------------------------------------------------------------------------------------------------
def test_identical_lines_get_the_same_uid():
    first, second = parse(pay_page_line(T0, "O1")), parse(pay_page_line(T0, "O1"))
    assert first.uid == second.uid


def test_surrounding_whitespace_does_not_change_the_uid():
    source, text = pay_page_line(T0, "O1")
    assert parse_line(demo_template(), source, text).uid == parse_line(demo_template(), source, f"  {text}\r\n").uid


def test_different_lines_or_sources_get_different_uids():
    assert parse(pay_page_line(T0, "O1")).uid != parse(pay_page_line(T0, "O1", extra="retry")).uid
    assert parse(pay_page_line(T0, "O1")).uid != parse(pay_page_line(T0 + 1, "O1")).uid
    assert line_uid("client", "{}") != line_uid("billing", "{}")


def test_it_rejects_json_nested_too_deeply_instead_of_crashing():
    text = '{"ts": 1714528800000, "oid": "O1", "event": "pay_page_open", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert rejected("client", text) == "bad JSON: nested too deeply"


def test_it_rejects_a_line_that_is_not_valid_utf8_text():
    text = '{"ts": 1714528800000, "oid": "O1", "event": "pay_page_open", "x": "\udcff"}'  # surrogateescape'd byte
    assert rejected("client", text).startswith("not valid UTF-8 text")


def test_non_ascii_text_is_kept_as_is():
    _, text = order_line(T0, "订单-1", region="华东")
    event = parse(("billing", text))
    assert event.session_key == "订单-1" and event.values["region"] == "华东" and event.raw == text


@pytest.mark.parametrize("field", ['"oid": "\\ud800"', '"device": {"model": "P40 \\udc00"}'])
def test_it_rejects_an_escaped_lone_surrogate_instead_of_silently_ignoring_the_record(field):
    text = '{"ts": 1714528800000, "event": "pay_page_open", "oid": "O1", ' + field + "}"
    assert rejected("client", text) == "bad JSON: a \\u escape decodes to a lone surrogate (not valid Unicode)"


def test_escaped_surrogate_pairs_are_ordinary_text():
    text = '{"ts": 1714528800000, "event": "pay_page_open", "oid": "O1", "device": {"model": "\\ud83d\\ude00 \\\\ud800"}}'
    event = parse(("client", text))
    assert event.node == "pay_page"
    assert event.values["device"] == "\U0001F600 \\ud800"


def test_a_rule_that_fails_on_a_record_sends_it_to_the_dead_letters_with_the_cel_message():
    template = compile_template(mutated(lambda doc: doc["nodes"][1].update(when="event > 5")))
    line = '{"ts": 1795226400000, "event": "pay_page_open", "oid": "o1"}'
    bad = parse_line(template, "client", line)
    assert isinstance(bad, Rejection)
    assert bad.reason.startswith("rule nodes.pay_page.when failed:")
    assert bad.raw == line
    absent = parse_line(template, "client", '{"ts": 1795226400000, "oid": "o1"}')
    assert not isinstance(absent, Rejection), "a record without the field simply matches no node"


# -- values no rule, database or JSON answer could hold are kept exact, as text --------------------------------
def test_nan_infinity_and_huge_integers_are_kept_as_text():
    text = ('{"time": "2024-05-01 10:00:00.000000", "type": "order_created", "channel": NaN, "trans_id": 123456789012345678901234567890,'
            ' "order": {"id": "O1", "amount": {"value": -Infinity, "currency": 1e999}}}')
    parsed = parse_line(demo_template(), "billing", text)
    assert isinstance(parsed, Event)
    assert parsed.values["channel"] == "NaN" and parsed.values["amount"] == "-Infinity" and parsed.values["currency"] == "1e999"
    assert parsed.values["trans_id"] == "123456789012345678901234567890"
    assert parsed.raw == text


def test_a_line_holding_a_lone_surrogate_is_rejected_and_still_has_a_content_hash():
    text = '{"time": "2024-05-01 10:00:00.000000", "type": "order_created", "order": {"id": "O\udc801"}}'
    result = parse_line(demo_template(), "billing", text)
    assert isinstance(result, Rejection) and result.raw == text
    assert len(line_uid("billing", text)) == 24


# -- the fast paths read exactly what the plain definitions read ---------------------------------------------------
_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**25), max_value=10**25), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1E+400", "12e-400"]),
)
_JSON = st.recursive(_JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abcn0"), inner, max_size=3),
                     max_leaves=12)


def _json_text(value) -> str:
    """JSON text in which the sampled strings 'NaN', '1e999', … appear bare as well as quoted."""
    text = json.dumps(value, ensure_ascii=False)
    for literal in ("NaN", "Infinity", "1e999", "1E+400", "12e-400"):
        text = text.replace(f'"{literal}"', literal, 1)
    return text


@settings(max_examples=300, deadline=None)
@given(value=_JSON)
def test_load_record_reads_what_the_keeping_json_decoder_reads(value):
    text = _json_text(value)
    try:
        expected = json.loads(text, parse_constant=str, parse_int=records._parse_int, parse_float=records._parse_float)
    except ValueError as exc:
        with pytest.raises(ValueError):
            load_record(text)
        return
    assert load_record(text) == expected and repr(load_record(text)) == repr(expected)


@settings(max_examples=300, deadline=None)
@given(record=st.dictionaries(st.sampled_from("abcn0"), _JSON, max_size=4),
       paths=st.lists(st.lists(st.sampled_from("abcn0"), min_size=1, max_size=3), min_size=1, max_size=5))
def test_field_values_are_dig_then_scalar_without_the_nulls(record, paths):
    source = SimpleNamespace(fields={f"f{i}": tuple(path) for i, path in enumerate(paths)})
    expected = {alias: records._scalar(dig(record, path)) for alias, path in source.fields.items()}
    assert field_values(source, record) == {k: v for k, v in expected.items() if v is not None}
