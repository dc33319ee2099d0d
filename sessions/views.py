"""Console pages. Declarative: querysets, FilterSets and forms here; logic in services/."""
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, View
from django_filters.views import FilterView

from .choices import Role
from .filters import DeadLetterFilterSet, SessionFilterSet
from .forms import SavedSearchForm, TemplateUploadForm
from .models import AnalysisTemplate, DeadLetter, SavedSearch, Session, TemplateVersion
from .pagination import KeysetPageMixin
from .permissions import RoleRequiredMixin
from .services import export, reports, search, session_page, templates


class SessionSearchView(RoleRequiredMixin, KeysetPageMixin, FilterView):
    """Find sessions by key, field values and ranges, conclusion, severity, missing node, status, time range."""

    queryset = search.search_queryset()
    filterset_class = SessionFilterSet
    paginate_by = 50
    template_name = "sessions/search.html"

    def get_context_data(self, **kwargs):
        valid = self.filterset.is_valid()
        return super().get_context_data(
            duration_histogram=search.duration_histogram(self.object_list) if valid else None,
            saved_searches=SavedSearch.objects.filter(owner=self.request.user),
            save_form=SavedSearchForm(initial={"query": self.search_query()}), **kwargs,
        )


    def search_query(self) -> str:
        """The search's parameters without its page position (a saved search starts at the first page)."""
        query = self.request.GET.copy()
        query.pop("cursor", None)
        return query.urlencode()


class SessionExportView(RoleRequiredMixin, View):
    """The search's result set as CSV (same parameters as the page), streamed and bounded by LUNA_EXPORT_MAX_ROWS."""

    def get(self, request) -> HttpResponse:
        filterset = SessionFilterSet(request.GET, queryset=search.search_queryset())
        if not filterset.is_valid():
            problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items())
            return HttpResponse(f"Bad search: {problems}\n", status=400, content_type="text/plain; charset=utf-8")
        response = StreamingHttpResponse(export.csv_lines(filterset.qs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="luna-sessions.csv"'
        return response


class SavedSearchCreateView(RoleRequiredMixin, View):
    """POST: save the current search's query string under a name (the user's own list; saving a name again replaces it)."""

    http_method_names = ["post"]

    def post(self, request) -> HttpResponse:
        form = SavedSearchForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
            return redirect(reverse("sessions:search") + "?" + request.POST.get("query", "")[:2000])
        saved, _ = SavedSearch.objects.update_or_create(
            owner=request.user, name=form.cleaned_data["name"], defaults={"query": form.cleaned_data["query"]}
        )
        messages.success(request, f"Search saved as \u201c{saved.name}\u201d.")
        return redirect(reverse("sessions:search") + "?" + saved.query)


class SavedSearchDeleteView(RoleRequiredMixin, View):
    """POST: forget one of the user's saved searches."""

    http_method_names = ["post"]

    def post(self, request, pk: int) -> HttpResponse:
        get_object_or_404(SavedSearch, pk=pk, owner=request.user).delete()
        return redirect("sessions:search")


class SessionDetailView(RoleRequiredMixin, DetailView):
    """One session: header, behaviour tree, timeline, fields."""

    queryset = Session.objects.select_related("template").prefetch_related("conclusions")
    template_name = "sessions/session_detail.html"
    context_object_name = "session"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**session_page.page_context(self.object), **kwargs)


class TemplateListView(RoleRequiredMixin, ListView):
    """Every template with its current version and how many sessions it produced."""

    queryset = templates.template_summaries()
    template_name = "sessions/template_list.html"
    context_object_name = "templates"


class TemplateDetailView(RoleRequiredMixin, DetailView):
    """The current document, the version history, export and upload, the correlation report."""

    queryset = AnalysisTemplate.objects.all()
    slug_field = slug_url_kwarg = "name"
    template_name = "sessions/template_detail.html"
    context_object_name = "template"

    def get_context_data(self, **kwargs):
        versions = self.object.versions.select_related("created_by").order_by("-number")
        history = reports.report_history(self.object)
        return super().get_context_data(
            versions=versions,
            current=versions.first(),
            form=TemplateUploadForm(),
            report=history[0] if history else None,
            report_history=history,
            **kwargs,
        )


class TemplateReportRefreshView(RoleRequiredMixin, View):
    """POST: rebuild the template's correlation report now, then show it on the template page."""

    required_role = Role.EDITOR
    http_method_names = ["post"]

    def post(self, request, name: str) -> HttpResponse:
        report = reports.build_report(get_object_or_404(AnalysisTemplate, name=name))
        messages.success(request, f"Correlation report rebuilt: {report.sessions} sessions, {report.rejected} rejected lines.")
        return redirect(reverse("sessions:template", args=[name]) + "#report")


class TemplateImportView(RoleRequiredMixin, FormView):
    """Upload or paste a document; every validation error is shown at once. It becomes a studio draft (opened at
    its review step: dry run, backtest, propose) unless an admin activates it explicitly (studio.services.imports)."""

    required_role = Role.EDITOR
    form_class = TemplateUploadForm
    template_name = "sessions/template_import.html"

    def form_valid(self, form: TemplateUploadForm) -> HttpResponse:
        from studio.services import imports  # review (maker/checker) is the studio's

        try:
            result = imports.import_document(form.cleaned_data["document"], self.request.user, form.cleaned_data["activate"])
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, exc if isinstance(exc, ValidationError) else str(exc))
            return self.form_invalid(form)
        if result.outcome == "draft":
            messages.success(self.request, f"{result.name}: imported as draft {result.draft.pk}. Review it, dry-run it and "
                                           f"propose it; an admin activates it.")
            return redirect(result.wizard_url)
        verb = "activated as" if result.outcome == "activated" else "unchanged; current version is"
        messages.success(self.request, f"{result.name}: {verb} v{result.version.number}.")
        for note in result.rollout:
            messages.info(self.request, note)
        return redirect("sessions:template", name=result.name)


class TemplateExportView(RoleRequiredMixin, View):
    """Download a version's document as JSON (`?version=N`, default current); whoever may read it may download it."""

    def get(self, request, name: str) -> HttpResponse:
        number = request.GET.get("version")
        try:
            version = templates.get_version(name, int(number) if number else None)
        except (TemplateVersion.DoesNotExist, ValueError):
            raise Http404("No such template version.") from None
        response = HttpResponse(templates.dump_document(version.document), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{templates.export_filename(version)}"'
        return response


class DeadLetterListView(RoleRequiredMixin, FilterView):
    """Rejected lines of one template, with counts by source and reason."""

    filterset_class = DeadLetterFilterSet
    paginate_by = 50
    template_name = "sessions/dead_letter_list.html"

    @cached_property
    def template(self) -> AnalysisTemplate:
        return get_object_or_404(AnalysisTemplate, name=self.kwargs["name"])

    def get_queryset(self):
        return DeadLetter.objects.filter(template=self.template).order_by("-created_ms", "-id")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            template=self.template, groups=search.dead_letter_groups(self.template), **kwargs
        )
