"""Session documents rebuilt from the stored rows: what rollup rebuilds and fact backfills feed the sink's upkeep."""
from collections import defaultdict

from sessions.models import AnalysisTemplate, Session, SessionConclusion, SessionField, SessionNode


def stored_documents(template: AnalysisTemplate, ids: list[int], dimensions: list[str]) -> list[dict]:
    """The parts of the session documents the rollups and the fact table read (a field's first stored value)."""
    fields: dict[int, dict] = defaultdict(dict)
    for session_id, name, text, number in (SessionField.objects.filter(session_id__in=ids, name__in=dimensions)
                                           .order_by("id").values_list("session_id", "name", "str_value", "num_value")):
        fields[session_id].setdefault(name, text if text is not None else number)
    conclusions: dict[int, list] = defaultdict(list)
    for session_id, name, severity in SessionConclusion.objects.filter(session_id__in=ids).values_list("session_id", "name", "severity"):
        conclusions[session_id].append({"name": name, "severity": severity})
    nodes: dict[int, set] = defaultdict(set)
    for session_id, node in SessionNode.objects.filter(session_id__in=ids).values_list("session_id", "node"):
        nodes[session_id].add(node)
    return [
        {"uid": s.id, "start_ms": s.start_ms, "end_ms": s.end_ms, "duration_ms": s.duration_ms, "status": s.status,
         "completeness": s.completeness, "primary_conclusion": s.primary_conclusion, "conclusions": conclusions[s.id],
         "fields": fields[s.id], "nodes": sorted(nodes[s.id])}
        for s in Session.objects.filter(pk__in=ids, template=template).order_by("id")
    ]
