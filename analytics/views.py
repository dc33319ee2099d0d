"""Console pages: dashboards (figures fetched from the API by static/analytics/dashboards.js) and alerts."""
from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.generic import TemplateView, View

from sessions.choices import Role
from sessions.models import AnalysisTemplate
from sessions.permissions import RoleRequiredMixin

from .models import AlertFiring, AlertRule
from .services import alerts
from .services.dashboards import visible_dashboards

FIRINGS_SHOWN = 100


class SilenceForm(forms.Form):
    minutes = forms.IntegerField(min_value=0, max_value=7 * 24 * 60)


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


class AlertListView(RoleRequiredMixin, TemplateView):
    """Alert rules with their state and the recent firings; editors silence rules and resolve firings."""

    template_name = "analytics/alerts.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            rules=AlertRule.objects.select_related("template"),
            firings=AlertFiring.objects.select_related("rule", "rule__template")[:FIRINGS_SHOWN], now=timezone.now(), **kwargs,
        )


class AlertSilenceView(RoleRequiredMixin, View):
    """POST minutes: notifications of the rule's firings wait until then (0 lifts the silence)."""

    required_role = write_role = Role.EDITOR

    def post(self, request, pk: int):
        form = SilenceForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Silence for 0 to 10080 minutes.")
        else:
            alerts.silence(get_object_or_404(AlertRule, pk=pk), form.cleaned_data["minutes"])
        return redirect("analytics:alerts")


class FiringResolveView(RoleRequiredMixin, View):
    required_role = write_role = Role.EDITOR

    def post(self, request, pk: int):
        firing = get_object_or_404(AlertFiring, pk=pk)
        if firing.resolved_at is None:
            alerts.resolve(firing, request.user.get_username())
        return redirect("analytics:alerts")
