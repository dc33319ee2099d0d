"""`manage.py flink_cluster start|stop|status` for the standalone cluster under var/flink."""
from django.core.management.base import BaseCommand

from operations.services import flink_cluster


class Command(BaseCommand):
    help = "Start, stop or inspect the standalone Flink cluster run from the apache-flink package's scripts."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args, **options) -> None:
        layout = flink_cluster.default_layout()
        if options["action"] == "start":
            info = flink_cluster.start(layout)
            self.stdout.write(f"Flink cluster up at {layout.rest_url}: {info.get('taskmanagers')} TM, {info.get('slots-total')} slots")
        elif options["action"] == "stop":
            flink_cluster.stop(layout)
            self.stdout.write("Flink cluster stopped")
        else:
            info = flink_cluster.overview(layout.rest_url)
            self.stdout.write(f"{layout.rest_url}: {info if info else 'not running'}")
