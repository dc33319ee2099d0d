"""Backtest: a draft over a time range of the stored input, next to the live version, through the job's own
code. Both versions read the same lines, so every difference is the draft's doing; the comparison is kept on
the Backtest row, never in the live session tables.

The planner picks the engine: the pure engine (`engine.Correlator`, in the Celery worker) for ranges up to
LUNA_STUDIO_BACKTEST_MAX_LINES, the bounded Flink job (flink_backtest.py, scratch databases) beyond;
LUNA_STUDIO_BACKTEST_ENGINE = pure | flink forces one. The result says which ran and why.
"""
from collections import Counter
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.ordering import merge_in_time_order
from jobs.sessionize.logic.template import CompiledTemplate, TemplateError, compile_template
from sessions.models import TemplateVersion
from sessions.services import templates

from ..models import Backtest, Draft
from . import feedback, flink_backtest, samples
from .backtest_input import BacktestError, Canceled, TooLarge, input_lines

__all__ = ["BacktestError", "Canceled", "TooLarge", "input_lines", "request", "cleanup", "compare", "diff", "run", "cancel"]

PROGRESS_EVERY = 2000
MAX_CHANGED_DOCS = 200  # changed sessions kept with both documents (openable side by side)


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
    """Backtests older than LUNA_STUDIO_BACKTEST_KEEP_HOURS go, with their scratch databases (and any scratch
    directory whose row is gone)."""
    cutoff = timezone.now() - timedelta(hours=settings.LUNA_STUDIO_BACKTEST_KEEP_HOURS)
    removed = Backtest.objects.filter(created_at__lt=cutoff).delete()[0]
    flink_backtest.remove_orphans(set(Backtest.objects.values_list("pk", flat=True)))
    return removed


def correlate(template: CompiledTemplate, streams: dict[str, list[str]], tick: Callable[[int], None]) -> dict[tuple, dict]:
    correlator = Correlator(template)
    mine = {name: lines for name, lines in streams.items() if name in template.sources}
    for n, (source, line) in enumerate(merge_in_time_order(template, mine), 1):
        correlator.feed(source, line)
        if n % PROGRESS_EVERY == 0:
            tick(PROGRESS_EVERY)
    correlator.finish()
    return {(s.document["session_key"], s.document["start_ms"]): s.document for s in correlator.store.values()}


Sides = tuple[dict[tuple, dict], dict[tuple, dict], int]  # live sessions, draft sessions, lines read


def sides_pure(draft_doc: dict[str, Any], live_doc: dict[str, Any], start_ms: int, end_ms: int,
               tick: Callable[[int], None] = lambda n: None, max_lines: int | None = None) -> Sides:
    """The pure path: both versions in memory; more than `max_lines` lines in the range raises TooLarge."""
    draft, live = compile_template(draft_doc), compile_template(live_doc)
    limit = max_lines or settings.LUNA_STUDIO_BACKTEST_MAX_LINES
    streams = input_lines(draft, start_ms, end_ms, limit)
    if live.sources.keys() - draft.sources.keys():  # a source the draft dropped still feeds the live side
        streams.update({k: v for k, v in input_lines(live, start_ms, end_ms, limit).items() if k not in streams})
    return correlate(live, streams, tick), correlate(draft, streams, tick), sum(len(v) for v in streams.values())


def compare(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The pure path's comparison (see `sides_pure` for the arguments)."""
    return diff(*sides_pure(*args, **kwargs))


def sides_flink(backtest_id: int, draft_doc: dict[str, Any], live_doc: dict[str, Any], live_version: int,
                start_ms: int, end_ms: int, stop: Callable[[], bool], report: Callable[[str, int], None]) -> Sides:
    """The big-range path: the bounded Flink job over the range for each version."""
    before, live_lines = flink_backtest.correlate_side(backtest_id, "live", live_doc, live_version, start_ms, end_ms, stop, report)
    after, draft_lines = flink_backtest.correlate_side(backtest_id, "draft", draft_doc, 0, start_ms, end_ms, stop, report)
    return before, after, max(live_lines, draft_lines)


def diff(before: dict[tuple, dict], after: dict[tuple, dict], lines: int) -> dict[str, Any]:
    """Counts per conclusion before (live) and after (draft), and every session whose conclusions change."""
    changed = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0])):
        old, new = _names(before.get(key)), _names(after.get(key))
        if old != new:
            item = {"session_key": key[0], "start_ms": key[1], "before": old, "after": new}
            if len(changed) < MAX_CHANGED_DOCS:
                item.update(before_doc=before.get(key), after_doc=after.get(key))
            changed.append(item)
    return {
        "lines": lines,
        "sessions_before": len(before), "sessions_after": len(after),
        "before": dict(Counter(c["name"] for d in before.values() for c in d["conclusions"])),
        "after": dict(Counter(c["name"] for d in after.values() for c in d["conclusions"])),
        "changed": changed,
    }


def _names(doc: dict[str, Any] | None) -> list[str] | None:
    """The session's conclusions (None: the session does not exist on that side)."""
    return None if doc is None else sorted(c["name"] for c in doc["conclusions"])


def run(backtest_id: int) -> str:
    """The Celery task's body: plans the engine, shows progress on the row, stops when the row is canceled."""
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().get(pk=backtest_id)
        if backtest.status != Backtest.Status.QUEUED:
            return backtest.status
        backtest.status = Backtest.Status.RUNNING
        backtest.save(update_fields=["status"])
    rows = Backtest.objects.filter(pk=backtest_id)
    done = 0

    def canceled() -> bool:
        return rows.filter(status=Backtest.Status.CANCELED).exists()

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if canceled():
            raise Canceled
        rows.update(progress=done)

    def report(phase: str, lines: int) -> None:
        nonlocal done
        done += lines
        rows.update(phase=phase[:300], progress=done)

    def flink() -> None:
        nonlocal done
        done = 0  # the pure attempt's lines do not count

    try:
        live = templates.get_version(backtest.template_name, backtest.live_version).document
        sides, plan = _planned(backtest, live, tick, canceled, report, flink)
        result = diff(*sides)
        result["feedback"] = feedback.for_backtest(backtest.template_name, backtest.live_version, sides[0], sides[1])
    except Canceled:
        flink_backtest.remove_scratch(backtest_id)
        return Backtest.Status.CANCELED
    except (BacktestError, TemplateError, samples.SampleError) as exc:
        flink_backtest.remove_scratch(backtest_id)
        _finish(backtest_id, Backtest.Status.FAILED, error=str(exc))
        return Backtest.Status.FAILED
    result["plan"] = plan
    _finish(backtest_id, Backtest.Status.DONE, result=result, progress=2 * result["lines"], total=2 * result["lines"],
            phase="done")
    return Backtest.Status.DONE


def _planned(backtest: Backtest, live: dict[str, Any], tick: Callable[[int], None], canceled: Callable[[], bool],
             report: Callable[[str, int], None], switching: Callable[[], None]) -> tuple[Sides, str]:
    """The planner: the pure engine unless the range holds more than LUNA_STUDIO_BACKTEST_MAX_LINES lines (or the
    setting forces one); returns both sides and the sentence saying which engine ran and why."""
    engine, rows = settings.LUNA_STUDIO_BACKTEST_ENGINE, Backtest.objects.filter(pk=backtest.pk)
    args = (backtest.document, live, backtest.start_ms, backtest.end_ms)
    plan = "bounded Flink job: forced by LUNA_STUDIO_BACKTEST_ENGINE=flink"
    if engine != "flink":
        try:
            rows.update(engine="pure", phase="pure engine: correlating the range in the worker")
            sides = sides_pure(*args, tick)
            return sides, f"pure engine: {sides[2]} lines, at most LUNA_STUDIO_BACKTEST_MAX_LINES = {settings.LUNA_STUDIO_BACKTEST_MAX_LINES}"
        except TooLarge as exc:
            if engine == "pure":
                raise BacktestError(f"{exc}: narrow it, or let the planner use the bounded Flink job "
                                    f"(LUNA_STUDIO_BACKTEST_ENGINE=auto)") from None
            plan = f"bounded Flink job: {exc}"
    switching()
    rows.update(engine="flink", progress=0, phase=plan)
    return sides_flink(backtest.pk, *args[:2], backtest.live_version, *args[2:], canceled, report), plan


def _finish(backtest_id: int, status: str, **values: Any) -> None:
    Backtest.objects.filter(pk=backtest_id).exclude(status=Backtest.Status.CANCELED).update(
        status=status, finished_at=timezone.now(), **values)


def cancel(backtest: Backtest) -> bool:
    """Ask a queued or running backtest to stop (the pure loop checks at its next progress tick, the Flink path
    within a second, and kills its job)."""
    return bool(Backtest.objects.filter(pk=backtest.pk, status__in=[Backtest.Status.QUEUED, Backtest.Status.RUNNING])
                .update(status=Backtest.Status.CANCELED, finished_at=timezone.now()))
