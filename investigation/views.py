"""Console pages: the case queue, the compare page, and the POST actions of the case panel."""
import csv

from django.contrib import messages
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect
from django.views.generic import ListView, TemplateView, View

from sessions.choices import Role
from sessions.models import AnalysisTemplate
from sessions.permissions import RoleRequiredMixin, has_role

from .forms import PairForm
from .models import CaseStatus, QueryRun, SavedQuery
from .services import actions, adhoc, cases, compare

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


class AdhocSqlView(RoleRequiredMixin, TemplateView):
    """Read-only SQL over the results (editor): run, download as CSV, save; every run is audited."""

    template_name = "investigation/sql.html"
    required_role = Role.EDITOR

    def get_context_data(self, **kwargs):
        saved = SavedQuery.objects.order_by("name")
        history = QueryRun.objects.select_related("author")[:20]
        return super().get_context_data(saved=saved, history=history, max_rows=adhoc.settings.LUNA_ADHOC_MAX_ROWS, **kwargs)

    def get(self, request, *args, **kwargs):
        sql = ""
        if request.GET.get("saved"):
            sql = SavedQuery.objects.filter(name=request.GET["saved"]).values_list("sql", flat=True).first() or ""
        return self.render_to_response(self.get_context_data(sql=sql))

    def post(self, request, *args, **kwargs):
        sql, verb = request.POST.get("sql", ""), request.POST.get("do", "run")
        if verb == "save":
            name = request.POST.get("name", "").strip()[:100]
            try:
                adhoc.check(sql)
                if not name:
                    raise adhoc.QueryRefused("give the query a name to save it")
            except adhoc.QueryRefused as exc:
                return self.render_to_response(self.get_context_data(sql=sql, error=str(exc)), status=400)
            SavedQuery.objects.update_or_create(name=name, defaults={"sql": sql, "author": request.user})
            messages.success(request, f"Saved as {name!r}.")
            return redirect(f"{request.path}?saved={name}")
        try:
            result = adhoc.run(sql, request.user)
        except adhoc.QueryRefused as exc:
            return self.render_to_response(self.get_context_data(sql=sql, error=str(exc)), status=400)
        if verb == "csv":
            return csv_response(result)
        return self.render_to_response(self.get_context_data(sql=sql, result=result))


class _Echo:
    def write(self, value):
        return value


def csv_response(result) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in [result.columns, *result.rows])
    response = StreamingHttpResponse(rows, content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="luna-query.csv"'
    return response
