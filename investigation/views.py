"""Console pages: the case queue, the compare page, and the POST actions of the case panel."""
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import ListView, TemplateView, View

from sessions.choices import Role
from sessions.models import AnalysisTemplate
from sessions.permissions import RoleRequiredMixin, has_role

from .forms import PairForm
from .models import CaseStatus
from .services import actions, cases, compare

EDITOR_ACTIONS = {"merge", "keep"}


class CaseQueueView(RoleRequiredMixin, ListView):
    """Cases per analyst (`?mine=1`, or `?assignee=name`), per conclusion and status."""

    template_name = "investigation/queue.html"
    context_object_name = "cases"
    paginate_by = 50

    def get_queryset(self):
        params = self.request.GET
        user = self.request.user if params.get("mine") else None
        if params.get("assignee"):
            try:
                user = actions.user_named(params["assignee"])
            except cases.CaseError:
                return cases.queue().none()
        return cases.queue(user, params.get("conclusion", ""), params.get("status", ""), params.get("template", ""))

    def get_context_data(self, **kwargs):
        return super().get_context_data(statuses=CaseStatus.choices, templates=AnalysisTemplate.objects.order_by("name"),
                                        params=self.request.GET, **kwargs)


class CompareView(RoleRequiredMixin, TemplateView):
    """Two sessions side by side (`?a=<id>&b=<id>`)."""

    template_name = "investigation/compare.html"

    def get_context_data(self, **kwargs):
        form = PairForm(self.request.GET)
        if not form.is_valid():
            raise Http404("Give two session ids: ?a=<id>&b=<id>.")
        left, right = actions.session(form.cleaned_data["a"]), actions.session(form.cleaned_data["b"])
        return super().get_context_data(**compare.compare(left, right), **kwargs)


class CaseActionView(RoleRequiredMixin, View):
    """POST /sessions/<pk>/case/<action>/: viewers work cases; merging or keeping a split pair needs an editor."""

    required_role = Role.VIEWER

    def post(self, request, pk: int, action: str):
        if action in EDITOR_ACTIONS and not has_role(request.user, Role.EDITOR):
            messages.error(request, "Merging or keeping a split pair needs the editor role.")
            return redirect("sessions:detail", pk=pk)
        try:
            message, show = actions.run(action, pk, request.POST, request.user)
        except actions.ActionError as exc:
            messages.error(request, str(exc))
            return redirect("sessions:detail", pk=pk)
        messages.success(request, message)
        return redirect("sessions:detail", pk=show)
