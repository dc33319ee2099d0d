"""Which template changes a running job can take without a restart.

A saved version reaches the running job through its broadcast control stream when what the job compiled is
unchanged: the sources (their SQL tables, watermarks and parsing), the session key (the keyBy), the
out-of-orderness bound (the sources' WATERMARK clause) and — with the JVM engine — the node classification
compiled into SQL per source (`sql_classify.compiled_sources`: the nodes of a source, their order and `when`
rules). Everything else — join bounds, gap, timeout, completion, fields, conclusions, dimensions, and the rules
of sources Python parses — is read by the functions from the template they hold, so a new version swaps in
between two records.
"""
from typing import Any

from ..sql_classify import compiled_sources
from .durations import parse_duration_ms
from .template import TemplateError

DEFAULT_OUT_OF_ORDERNESS = "10s"  # the template schema's default
SOURCE_PARTS = ("location", "format", "time", "fields")


def restart_reasons(running: dict[str, Any], saved: dict[str, Any], sql_classified: bool = True) -> list[str]:
    """Why `saved` cannot replace `running` in a live job (empty: it can, through the broadcast stream).
    `sql_classified`: the job classifies nodes in SQL (the JVM engine)."""
    reasons: list[str] = []
    reported: set[str] = set()
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
            reported.add(name)
    session_before, session_after = running.get("session", {}), saved.get("session", {})
    if session_before.get("key") != session_after.get("key"):
        reasons.append(f"the session key changed from '{session_before.get('key')}' to '{session_after.get('key')}'")
    elif sql_classified and (compiled := _compiled(running)) is not None and (saving := _compiled(saved)) is not None:
        for name in sorted((before.keys() & after.keys()) - reported):
            if compiled.get(name) != saving.get(name):
                reasons.append(f"the nodes or node rules of source '{name}' changed (the running job classifies them in SQL)")
    bounds = [parse_duration_ms(s.get("out_of_orderness") or DEFAULT_OUT_OF_ORDERNESS) for s in (session_before, session_after)]
    if bounds[0] != bounds[1]:
        reasons.append("out_of_orderness changed (it is the sources' watermark bound)")
    return reasons


def _compiled(document: dict[str, Any]) -> dict[str, str] | None:
    """None for a document that does not compile (saved versions are validated first; the other reasons stand)."""
    try:
        return compiled_sources(document)
    except TemplateError:
        return None
