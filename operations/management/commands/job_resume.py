"""`manage.py job_resume <template> --target URL` (luna.sh up) and `manage.py job_resume --stop-all` (luna.sh down).

`down` stops every running job with a savepoint; `up` resumes from it (or from the last checkpoint of a job the
cluster lost) and says so, or starts clean when there is nothing to restore. A dead job id is never reported as
running, so the monitor has nothing to "recover".
"""
from django.core.management.base import BaseCommand, CommandError

from sessions.models import AnalysisTemplate
from operations.services import job_control
from operations.services.flink_rest import FlinkError


class Command(BaseCommand):
    help = "Resume a template's continuous job from its savepoint/checkpoint (else start it clean), or stop all with savepoints."

    def add_arguments(self, parser) -> None:
        parser.add_argument("template", nargs="?", help="template name")
        parser.add_argument("--target", help="cluster REST URL (default: the managed cluster)")
        parser.add_argument("--stop-all", action="store_true", help="stop every running continuous job with a savepoint")

    def handle(self, *args, **options) -> None:
        if options["stop_all"]:
            for line in job_control.stop_all() or ["no running job to stop"]:
                self.stdout.write(line)
            return
        template = AnalysisTemplate.objects.filter(name=options["template"] or "").first()
        if template is None:
            raise CommandError(f"no template named {options['template']!r}")
        try:
            run, what = job_control.resume_or_start(template.pk, url=options["target"])
        except (FlinkError, job_control.JobControlError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{template.name}: job run {run.pk} {what}; Flink job {run.flink_job_id} is {run.state}")
