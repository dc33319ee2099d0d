"""`manage.py correlation_report name [--since D] [--until D] [--json]`: build, store and print the report."""
import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.api.serializers import CorrelationReportSerializer
from sessions.models import AnalysisTemplate, CorrelationReport
from sessions.services.reports import build_report
from sessions.services.search import to_epoch_ms
from sessions.templatetags.luna import duration, ms_datetime


def epoch_ms(text: str) -> int:
    """An ISO date or datetime (UTC unless it says otherwise) → epoch ms."""
    try:
        return to_epoch_ms(datetime.fromisoformat(text))
    except ValueError:
        raise CommandError(f"not an ISO date or datetime: {text!r}") from None


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


class Command(BaseCommand):
    help = "Build and store a template's correlation report (sessions, complete/split/late %, rejected lines) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Template name.")
        parser.add_argument("--since", help="Sessions starting at or after this ISO date/datetime (UTC).")
        parser.add_argument("--until", help="Sessions starting before this ISO date/datetime (UTC).")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print the API representation instead of text.")

    def handle(self, *args, name: str, since: str | None, until: str | None, as_json: bool, **options) -> None:
        template = AnalysisTemplate.objects.filter(name=name).first()
        if template is None:
            raise CommandError(f"no template {name!r}")
        try:
            report = build_report(template, epoch_ms(since) if since else None, epoch_ms(until) if until else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.json_text(report) if as_json else self.plain_text(report))

    @staticmethod
    def json_text(report: CorrelationReport) -> str:
        return json.dumps(CorrelationReportSerializer(report).data, indent=2, ensure_ascii=False)

    @staticmethod
    def plain_text(report: CorrelationReport) -> str:
        window = "all time" if report.since_ms is None and report.until_ms is None else (
            f"{ms_datetime(report.since_ms) or '…'} → {ms_datetime(report.until_ms) or '…'}"
        )
        lines = [
            f"{report.template.name}: correlation report #{report.pk}, built {report.created_at:%Y-%m-%d %H:%M:%S} UTC, {window}",
            f"  sessions            {report.sessions}",
            f"  complete            {report.complete} ({pct(report.complete_pct)})",
            f"  closed / open       {report.closed} / {report.open}",
            f"  split               {report.split} ({pct(report.split_pct)})",
            f"  duration p50 / p95  {duration(report.duration_p50_ms) or '—'} / {duration(report.duration_p95_ms) or '—'}",
            f"  accepted events     {report.accepted}",
            f"  rejected lines      {report.rejected} ({pct(report.rejected_pct)}), orphan supplements {report.orphan_supplements}",
            f"  late events         {report.late} ({pct(report.late_pct)}): {report.late_pending} pending, {report.late_replayed} replayed",
            "  conclusions         " + (", ".join(f"{name} {count}" for name, count in report.conclusions) or "none"),
            "  rule errors         " + (", ".join(f"{rule} {count}" for rule, count in report.rule_errors.items()) or "none"),
            "",
            f"  {'source':<20} {'accepted':>9} {'rejected':>9} {'rejected %':>11}",
        ]
        lines += [f"  {r['source']:<20} {r['accepted']:>9} {r['rejected']:>9} {pct(r['rejected_pct']):>11}" for r in report.by_source]
        if report.rejected_by_reason:
            lines += ["", "  rejected lines by source and reason"]
            lines += [f"  {r['source']:<20} {r['count']:>9}  {r['reason']}" for r in report.rejected_by_reason]
        return "\n".join(lines)
