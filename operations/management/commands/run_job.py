"""`manage.py run_job <template> [--bounded] [--target local|http://host:8081]`."""
from django.core.management.base import BaseCommand, CommandError

from sessions.models import AnalysisTemplate
from operations.services.launch import run_job


class Command(BaseCommand):
    help = "Run a template's sessionize Flink job: continuously (new files picked up) or bounded (backfill, then exit)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("template", help="template name")
        parser.add_argument("--template-version", dest="template_version", type=int, help="template version number (default: current)")
        parser.add_argument("--bounded", action="store_true", help="process the files present, close all sessions, exit")
        parser.add_argument("--target", help="'local' mini-cluster or a cluster REST URL (default: LUNA_FLINK_TARGET)")

    def handle(self, *args, **options) -> None:
        template = AnalysisTemplate.objects.filter(name=options["template"]).first()
        if template is None:
            raise CommandError(f"no template named {options['template']!r}; import one with import_template")
        versions = template.versions.all()
        version = versions.filter(number=options["template_version"]).first() if options["template_version"] else versions.first()
        if version is None:
            raise CommandError(f"template {template.name!r} has no version {options['version']}")
        mode = "bounded" if options["bounded"] else "continuous"
        self.stdout.write(f"running {version} ({mode}) on {options['target'] or 'the configured target'} ...")
        run = run_job(version, bounded=options["bounded"], target=options["target"])
        self.stdout.write(f"job run {run.pk}: {run.state} flink_job_id={run.flink_job_id or '-'} stats={run.stats}")
        if run.state == "failed":
            raise CommandError(run.error[-4000:])
