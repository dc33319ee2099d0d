"""The demo template: checking that it reads the generated lines as the manifest says, and storing it."""
from __future__ import annotations

from typing import Any

from .anomalies import DUPLICATE_DELIVERY, EXPECTED
from .catalog import SOURCES
from .files import source_locations
from .simulator import PaymentFlowSimulator


def check_template(document: dict[str, Any]) -> None:
    """Make sure the generated records mean to this template what the manifest says (paths, times, nodes,
    conclusions): a tiny flow of each anomaly is parsed with the template's own parser."""
    from jobs.sessionize.logic.records import Event, parse_line
    from jobs.sessionize.logic.template import compile_template

    tpl = compile_template(document)
    source_locations(document)
    names = {c.name for c in tpl.conclusions}
    wanted = {c for outcome in EXPECTED.values() for c, _ in outcome}
    if not wanted <= names:
        raise ValueError(f"the template lacks conclusions {sorted(wanted - names)} the demo data is built to show")
    sim = PaymentFlowSimulator(0, duplicate_rate=0, malformed_rate=0, browse_rate=0)
    t0 = 1_700_000_000_000
    nodes_by_step = {"order": "order", "pay_page": "pay_page", "voucher": "voucher", "verified": "verified",
                     "callback": "callback", "delivery": "delivery"}
    entry = sim.add_order(t0, anomaly=DUPLICATE_DELIVERY)
    lines = sim.drain()
    seen = []
    for source, line in lines:
        parsed = parse_line(tpl, SOURCES[source], line)
        if not isinstance(parsed, Event):
            raise ValueError(f"template {tpl.name!r} does not read a generated {SOURCES[source]} line: {parsed}")
        key = parsed.session_key if not parsed.supplement else parsed.join_key
        if key not in (entry["order_id"], entry["trans_id"]):
            raise ValueError(f"template {tpl.name!r} extracts key {key!r} from a generated {SOURCES[source]} line")
        seen.append(parsed.node)
    if set(seen) != set(nodes_by_step.values()):
        raise ValueError(f"template {tpl.name!r} routes generated lines to nodes {sorted(set(seen))}")


# -- database (Django needed only here) -------------------------------------------------------------------
def import_template(document: dict[str, Any], user: Any = None) -> tuple[Any, bool]:
    """Store the template document as its current version; (TemplateVersion, created?).

    Uses `sessions.services.templates.save_template_version` when it exists (the one path the console and
    the API use); otherwise writes the rows directly, with the same validation and fingerprint idempotence.
    """
    from django.db import transaction

    from jobs.sessionize.logic.template import document_fingerprint
    from sessions.models import AnalysisTemplate, TemplateVersion

    fingerprint = document_fingerprint(document)
    before = (
        TemplateVersion.objects.filter(template__name=document.get("name"), fingerprint=fingerprint)
        .order_by("-number").values_list("pk", flat=True).first()
    )
    try:
        from sessions.services.templates import save_template_version
    except ImportError:
        save_template_version = None
    if save_template_version is not None:
        version = save_template_version(document, user=user)
        return version, version.pk != before
    with transaction.atomic():
        template, _ = AnalysisTemplate.objects.select_for_update().get_or_create(
            name=document["name"], defaults={"description": document.get("description", "")}
        )
        current = template.versions.order_by("-number").first()
        if current is not None and current.fingerprint == fingerprint:
            return current, False
        version = TemplateVersion(
            template=template, number=(current.number + 1) if current else 1, document=document,
            fingerprint=fingerprint, created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        version.clean()  # compiles the document: the same check the console runs
        version.save()
    return version, True
