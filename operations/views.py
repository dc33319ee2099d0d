"""The jobs page: every template's Flink job and the operator's actions (admin). Logic in services/."""
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from sessions.choices import Role
from sessions.models import AnalysisTemplate
from sessions.permissions import RoleRequiredMixin

from . import tasks
from .choices import JobAction
from .services import job_board, job_control


class JobListView(RoleRequiredMixin, TemplateView):
    """Every template's Flink job: state, uptime, throughput, checkpoints, lag, restarts, and the buttons."""

    required_role = Role.ADMIN
    template_name = "operations/jobs.html"

    def get_context_data(self, **kwargs):
        task_id = self.request.GET.get("task", "")
        return super().get_context_data(
            rows=job_board.job_rows(), cluster_url=job_control.cluster_url(),
            task=job_board.task_status(task_id) if task_id else None, **kwargs,
        )


class JobActionView(RoleRequiredMixin, View):
    """Queue start/stop/cancel/restart as a Celery task; JSON for the page's script, a redirect without it."""

    required_role = Role.ADMIN

    def post(self, request, name: str, action: str) -> HttpResponse:
        template = get_object_or_404(AnalysisTemplate, name=name)
        task_id = tasks.enqueue(action, template.pk)
        status_url = reverse("operations:job_task", args=[task_id])
        if "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"task_id": task_id, "status_url": status_url}, status=202)
        messages.info(request, f"{template.name}: {JobAction(action).label} queued.")
        return redirect(f"{reverse('operations:jobs')}?task={task_id}")


class JobTaskView(RoleRequiredMixin, View):
    """A queued action's progress (Celery state and step, or the full error), polled by the page."""

    required_role = Role.ADMIN

    def get(self, request, task_id: str) -> JsonResponse:
        return JsonResponse(job_board.task_status(task_id))
