"""REST API of job operations (admin): the same services and roles as the jobs page."""
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from sessions.api.views import RoleViewSetMixin
from sessions.choices import Role
from sessions.models import AnalysisTemplate

from .. import tasks
from ..choices import JobAction
from ..filters import JobRunFilterSet
from ..models import JobRun
from ..services import job_board
from . import serializers


@extend_schema(tags=["jobs"])
class JobViewSet(RoleViewSetMixin, viewsets.GenericViewSet):
    """Every template's Flink job (its latest run) and the operator actions, each queued as a Celery task (admin)."""

    serializer_class = serializers.JobRowSerializer
    read_role = write_role = Role.ADMIN
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []
    pagination_class = None

    def list(self, request: Request) -> Response:
        return Response(self.get_serializer(job_board.job_rows(), many=True).data)

    def retrieve(self, request: Request, name: str) -> Response:
        row = next((row for row in job_board.job_rows() if row.template.name == name), None)
        if row is None:
            raise Http404("No such template.")
        return Response(self.get_serializer(row).data)

    @extend_schema(request=None, responses={202: serializers.TaskQueuedSerializer}, summary="Start the template's job")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, name: str) -> Response:
        return self._queue(name, JobAction.START)

    @extend_schema(request=None, responses={202: serializers.TaskQueuedSerializer}, summary="Stop with a savepoint")
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, name: str) -> Response:
        return self._queue(name, JobAction.STOP)

    @extend_schema(request=None, responses={202: serializers.TaskQueuedSerializer}, summary="Cancel (checkpoints kept)")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, name: str) -> Response:
        return self._queue(name, JobAction.CANCEL)

    @extend_schema(request=None, responses={202: serializers.TaskQueuedSerializer},
                   summary="Restart from the latest savepoint or checkpoint")
    @action(detail=True, methods=["post"])
    def restart(self, request: Request, name: str) -> Response:
        return self._queue(name, JobAction.RESTART)

    def _queue(self, name: str, action_name: str) -> Response:
        template = get_object_or_404(AnalysisTemplate, name=name)
        task_id = tasks.enqueue(action_name, template.pk)
        body = {"task_id": task_id, "status_url": reverse("job-task-detail", args=[task_id], request=self.request)}
        return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["jobs"])
class JobRunViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Every run of every template's job, newest first, with the monitor's figures and repair attempts (admin)."""

    queryset = JobRun.objects.select_related("version__template").prefetch_related("attempts")
    serializer_class = serializers.JobRunSerializer
    filterset_class = JobRunFilterSet
    read_role = Role.ADMIN


@extend_schema(tags=["jobs"])
class JobTaskViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """The state of a queued job action (Celery state, step, result or the full error), from django-celery-results."""

    read_role = Role.ADMIN
    lookup_field = "task_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(responses={200: serializers.TaskStatusSerializer})
    def retrieve(self, request: Request, task_id: str) -> Response:
        return Response(serializers.TaskStatusSerializer(job_board.task_status(task_id)).data)
