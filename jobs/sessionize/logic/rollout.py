"""Which template changes a running job can take without a restart.

A saved version reaches the running job through its broadcast control stream when the job's *shape* is
unchanged: the sources (their SQL tables, watermarks and parsing), the session key (the keyBy) and the
out-of-orderness bound (the sources' WATERMARK clause), and the node classification the job compiled into its
SQL (jobs/sessionize/sql_classify.py: which nodes each source has, in order, their `when` rules and join fields).
Everything else — join bounds, gap, timeout, completion, `many`, parents, labels, fields, conclusions,
dimensions — is read by the running functions from the template they hold, so a new version swaps in between
two records.
"""
from typing import Any

from .durations import parse_duration_ms

DEFAULT_OUT_OF_ORDERNESS = "10s"  # the template schema's default
SOURCE_PARTS = ("location", "format", "time", "fields")


def restart_reasons(running: dict[str, Any], saved: dict[str, Any]) -> list[str]:
    """Why `saved` cannot replace `running` in a live job (empty: it can, through the broadcast stream)."""
    reasons: list[str] = []
    before = {source["name"]: source for source in running.get("sources", [])}
    after = {source["name"]: source for source in saved.get("sources", [])}
    for name in sorted(after.keys() - before.keys()):
        reasons.append(f"source '{name}' was added")
    for name in sorted(before.keys() - after.keys()):
        reasons.append(f"source '{name}' was removed")
    for name in sorted(before.keys() & after.keys()):
        changed = [part for part in SOURCE_PARTS if before[name].get(part) != after[name].get(part)]
        if changed:
            reasons.append(f"source '{name}' changed its {', '.join(changed)}")
    session_before, session_after = running.get("session", {}), saved.get("session", {})
    if session_before.get("key") != session_after.get("key"):
        reasons.append(f"the session key changed from '{session_before.get('key')}' to '{session_after.get('key')}'")
    bounds = [parse_duration_ms(s.get("out_of_orderness") or DEFAULT_OUT_OF_ORDERNESS) for s in (session_before, session_after)]
    if bounds[0] != bounds[1]:
        reasons.append("out_of_orderness changed (it is the sources' watermark bound)")
    if _classification(running) != _classification(saved):
        reasons.append("the node classification changed (nodes, their sources, order, `when` rules or join fields are "
                       "compiled into the job's SQL)")
    return reasons


def _classification(document: dict[str, Any]) -> list[tuple]:
    """What sql_classify compiles of the nodes: per node in declaration order its name, source, rule and join field."""
    return [(node.get("name"), node.get("source"), node.get("when") or None, (node.get("join") or {}).get("on"))
            for node in document.get("nodes", [])]
