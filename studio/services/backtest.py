"""Backtest: a draft over a time range of the stored input, next to the live version, through the job's own
pure engine. Both versions read the same lines, so every difference is the draft's doing; the result is
kept on the Backtest row (a scratch namespace), never in the live session tables.

Ranges are bounded by LUNA_STUDIO_BACKTEST_MAX_LINES: beyond that a bounded Flink job would be needed (not
built yet), so a larger range is refused with that reason rather than run slowly.
"""
import json
from collections import Counter
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import dig
from jobs.sessionize.logic.template import CompiledTemplate, TemplateError, compile_template
from sessions.models import TemplateVersion
from sessions.services import templates
from jobs.sessionize.logic.ordering import merge_in_time_order

from ..models import Backtest, Draft
from . import samples

PROGRESS_EVERY = 2000
MAX_CHANGED_DOCS = 200  # changed sessions kept with both documents (openable side by side)


class BacktestError(ValueError):
    """The backtest cannot run (no live version, draft does not compile, range too large ...)."""


class Canceled(Exception):
    pass


def request(draft: Draft, start_ms: int, end_ms: int, user: Any) -> Backtest:
    """Check what can be checked now and store the request (the Celery task runs it)."""
    if end_ms <= start_ms:
        raise BacktestError("the range ends before it starts")
    try:
        live = templates.get_version(draft.name)
    except TemplateVersion.DoesNotExist:
        raise BacktestError(f"template {draft.name!r} has no active version to compare with") from None
    try:
        compile_template(draft.document)
    except TemplateError as exc:
        raise BacktestError("the draft does not compile: " + "; ".join(exc.errors)) from None
    cleanup()
    return Backtest.objects.create(template_name=draft.name, document=draft.document, live_version=live.number,
                                   start_ms=start_ms, end_ms=end_ms, created_by=user if user.is_authenticated else None)


def cleanup() -> int:
    """Backtests older than LUNA_STUDIO_BACKTEST_KEEP_HOURS go (with their scratch sessions)."""
    cutoff = timezone.now() - timedelta(hours=settings.LUNA_STUDIO_BACKTEST_KEEP_HOURS)
    return Backtest.objects.filter(created_at__lt=cutoff).delete()[0]


def input_lines(template: CompiledTemplate, start_ms: int, end_ms: int, max_lines: int) -> dict[str, list[str]]:
    """Each source's stored lines whose event time is in [start, end); unreadable lines are kept (both versions
    reject them alike)."""
    streams: dict[str, list[str]] = {}
    total = 0
    for name, source in template.sources.items():
        kept = streams[name] = []
        for file in samples.source_files(source.location):
            with file.open(encoding="utf-8", errors="replace") as handle:
                for raw in handle:
                    line = raw.rstrip("\n")
                    try:
                        ts = source.parse_time(dig(json.loads(line), source.time_path))
                    except Exception:  # noqa: BLE001 — any unreadable line is kept for both versions
                        ts = start_ms
                    if start_ms <= ts < end_ms:
                        kept.append(line)
                        total += 1
                        if total > max_lines:
                            raise BacktestError(f"the range holds more than {max_lines} lines: narrow it (a bounded Flink "
                                                f"backtest for large ranges is not available yet)")
    return streams


def correlate(template: CompiledTemplate, streams: dict[str, list[str]], tick: Callable[[int], None]) -> dict[tuple, dict]:
    correlator = Correlator(template)
    mine = {name: lines for name, lines in streams.items() if name in template.sources}
    for n, (source, line) in enumerate(merge_in_time_order(template, mine), 1):
        correlator.feed(source, line)
        if n % PROGRESS_EVERY == 0:
            tick(PROGRESS_EVERY)
    correlator.finish()
    return {(s.document["session_key"], s.document["start_ms"]): s.document for s in correlator.store.values()}


def compare(draft_doc: dict[str, Any], live_doc: dict[str, Any], start_ms: int, end_ms: int,
            tick: Callable[[int], None] = lambda n: None, max_lines: int | None = None) -> dict[str, Any]:
    """Counts per conclusion before (live) and after (draft), and every session whose conclusions change."""
    draft, live = compile_template(draft_doc), compile_template(live_doc)
    streams = input_lines(draft, start_ms, end_ms, max_lines or settings.LUNA_STUDIO_BACKTEST_MAX_LINES)
    for name in live.sources.keys() - draft.sources.keys():  # a source the draft dropped still feeds the live side
        streams.update(input_lines(live, start_ms, end_ms, max_lines or settings.LUNA_STUDIO_BACKTEST_MAX_LINES))
        break
    before, after = correlate(live, streams, tick), correlate(draft, streams, tick)
    changed = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0])):
        old, new = _names(before.get(key)), _names(after.get(key))
        if old != new:
            item = {"session_key": key[0], "start_ms": key[1], "before": old, "after": new}
            if len(changed) < MAX_CHANGED_DOCS:
                item.update(before_doc=before.get(key), after_doc=after.get(key))
            changed.append(item)
    return {
        "lines": sum(len(v) for v in streams.values()),
        "sessions_before": len(before), "sessions_after": len(after),
        "before": dict(Counter(c["name"] for d in before.values() for c in d["conclusions"])),
        "after": dict(Counter(c["name"] for d in after.values() for c in d["conclusions"])),
        "changed": changed,
    }


def _names(doc: dict[str, Any] | None) -> list[str] | None:
    """The session's conclusions (None: the session does not exist on that side)."""
    return None if doc is None else sorted(c["name"] for c in doc["conclusions"])


def run(backtest_id: int) -> str:
    """The Celery task's body: progress on the row, stops when the row is canceled."""
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().get(pk=backtest_id)
        if backtest.status != Backtest.Status.QUEUED:
            return backtest.status
        backtest.status = Backtest.Status.RUNNING
        backtest.save(update_fields=["status"])
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if Backtest.objects.filter(pk=backtest_id, status=Backtest.Status.CANCELED).exists():
            raise Canceled
        Backtest.objects.filter(pk=backtest_id).update(progress=done)

    try:
        live = templates.get_version(backtest.template_name, backtest.live_version).document
        result = compare(backtest.document, live, backtest.start_ms, backtest.end_ms, tick)
    except Canceled:
        return Backtest.Status.CANCELED
    except (BacktestError, TemplateError, samples.SampleError) as exc:
        _finish(backtest_id, Backtest.Status.FAILED, error=str(exc))
        return Backtest.Status.FAILED
    _finish(backtest_id, Backtest.Status.DONE, result=result, progress=2 * result["lines"], total=2 * result["lines"])
    return Backtest.Status.DONE


def _finish(backtest_id: int, status: str, **values: Any) -> None:
    Backtest.objects.filter(pk=backtest_id).exclude(status=Backtest.Status.CANCELED).update(
        status=status, finished_at=timezone.now(), **values)


def cancel(backtest: Backtest) -> bool:
    """Ask a queued or running backtest to stop (the task checks at its next progress tick)."""
    return bool(Backtest.objects.filter(pk=backtest.pk, status__in=[Backtest.Status.QUEUED, Backtest.Status.RUNNING])
                .update(status=Backtest.Status.CANCELED, finished_at=timezone.now()))
