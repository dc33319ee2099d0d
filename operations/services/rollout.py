"""Template hot update: a saved version reaches the running job of its template without a restart.

The job reads the template's updates directory as a broadcast control stream (jobs/sessionize/pipeline.py);
publishing is writing one file there. A version that changes what the job compiled (sources, session key, watermark
bound, node rules classified in SQL — jobs/sessionize/logic/rollout.py) is not published: the run gets a notice that a restart is needed.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from jobs.sessionize.logic.rollout import restart_reasons
from sessions.models import TemplateVersion

from ..choices import JobMode, JobState
from ..models import JobRun


@dataclass(frozen=True)
class RolloutOutcome:
    """What happened to one active run when a version was saved."""

    run: JobRun
    published: bool
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.published:
            return f"Published v{self.run.live_version} to running job (run {self.run.pk}): no restart needed."
        return f"Run {self.run.pk} keeps its version: {self.run.notice}"


def updates_dir(template_name: str) -> Path:
    """Where a template's published versions live (read by every continuous run of the template)."""
    return Path(settings.LUNA_VAR_DIR) / "jobs" / template_name / "updates"


def publish(version: TemplateVersion) -> list[RolloutOutcome]:
    """Offer `version` to every active continuous run of its template; returns what happened to each."""
    runs = JobRun.objects.select_related("version").filter(
        version__template_id=version.template_id, mode=JobMode.CONTINUOUS, state__in=JobState.active())
    outcomes = []
    for run in runs:
        if run.running_version >= version.number:
            continue
        running = TemplateVersion.objects.get(template_id=version.template_id, number=run.running_version)
        reasons = restart_reasons(running.document, version.document, sql_classified=settings.LUNA_SESSION_ENGINE == "jvm")
        if reasons:
            run.notice = (f"v{version.number} needs a restart ({'; '.join(reasons)}). Stop the job and Start it to run "
                          f"v{version.number}; until then it runs v{run.running_version}.")
        else:
            write_update(version)
            run.live_version, run.notice = version.number, ""
        run.save(update_fields=["live_version", "notice"])
        outcomes.append(RolloutOutcome(run, not reasons, tuple(reasons)))
    return outcomes


def on_version_saved(sender: type, version: TemplateVersion, **kwargs) -> list[str]:
    """`sessions.signals.version_saved`: publish the new version; the notes are what the save shows the editor."""
    return [outcome.message for outcome in publish(version)]


def write_update(version: TemplateVersion) -> Path:
    """One JSON line per version, written under a hidden name and renamed, so the job never reads half a file."""
    folder = updates_dir(version.template.name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"v{version.number:06d}.json"
    partial = folder / f".v{version.number:06d}.json.partial"
    partial.write_text(json.dumps({"version": version.number, "document": version.document}, separators=(",", ":")) + "\n")
    os.replace(partial, target)
    return target
