"""Console page: the dashboards (figures are fetched from the API by static/analytics/dashboards.js)."""
from django.views.generic import TemplateView

from sessions.models import AnalysisTemplate
from sessions.permissions import RoleRequiredMixin

from .services.dashboards import visible_dashboards


class DashboardView(RoleRequiredMixin, TemplateView):
    """Template, dashboard, time range, granularity and time zone pickers; panels drawn with Plotly."""

    template_name = "analytics/dashboard.html"

    def get_context_data(self, **kwargs):
        names = list(AnalysisTemplate.objects.order_by("name").values_list("name", flat=True))
        chosen = self.request.GET.get("template") or (names[0] if names else "")
        return super().get_context_data(
            template_names=names, chosen=chosen, boards=visible_dashboards(self.request.user).filter(template__name=chosen),
            granularities=["minute", "hour", "day", "week", "month"], **kwargs,
        )
