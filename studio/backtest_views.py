"""Backtest pages: ask for one from a draft, follow its progress, cancel it, open a changed session side by side."""
from datetime import datetime, timezone

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import DetailView

from sessions.choices import Role
from sessions.permissions import RoleRequiredMixin
from sessions.services.tree import build_tree

from . import tasks
from .models import Backtest, Draft
from .services import backtest
from .services.dry_run import TreeRow


def parse_moment(text: str) -> int:
    """'2026-11-29T10:00' (UTC, as the datetime-local input sends it) → epoch ms; ValueError otherwise."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


class BacktestRequestView(RoleRequiredMixin, View):
    required_role = Role.EDITOR

    def post(self, request, pk: int):
        draft = get_object_or_404(Draft, pk=pk)
        try:
            item = backtest.request(draft, parse_moment(request.POST.get("start", "")), parse_moment(request.POST.get("end", "")),
                                    request.user)
        except (backtest.BacktestError, ValueError) as exc:
            messages.error(request, f"Backtest not started: {exc}")
            return redirect(f"/studio/drafts/{draft.pk}/?step=review")
        tasks.run_backtest.delay(item.pk)
        return redirect("studio:backtest", pk=item.pk)


class BacktestView(RoleRequiredMixin, DetailView):
    """Progress (polled), counts per conclusion before/after, the sessions whose conclusion changes; cancel."""

    required_role = Role.EDITOR
    model = Backtest
    template_name = "studio/backtest.html"

    def get_context_data(self, **kwargs):
        result = self.object.result or {}
        names = sorted(set(result.get("before", {})) | set(result.get("after", {})))
        rows = [(n, result["before"].get(n, 0), result["after"].get(n, 0)) for n in names] if result else []
        return super().get_context_data(counts=rows, changed=result.get("changed", []), feedback=result.get("feedback", []),
                                        keep_hours=f"{settings.LUNA_STUDIO_BACKTEST_KEEP_HOURS} h", **kwargs)

    def post(self, request, pk: int):
        backtest.cancel(self.get_object())
        return redirect("studio:backtest", pk=pk)


class BacktestSessionView(RoleRequiredMixin, DetailView):
    """One changed session: the live version's tree and the draft's side by side."""

    required_role = Role.EDITOR
    model = Backtest
    template_name = "studio/backtest_session.html"

    def get_context_data(self, **kwargs):
        changed = (self.object.result or {}).get("changed", [])
        index = self.kwargs["index"]
        if index >= len(changed) or "before_doc" not in changed[index]:
            raise Http404("no such changed session (only the first ones are kept with their documents)")
        item = changed[index]
        sides = []
        for title, doc, nodes in (("Live version", item["before_doc"], None), ("Draft", item["after_doc"], self.object.document["nodes"])):
            roots = None
            if doc is not None:
                rows = [TreeRow(r["node"], r["seq"], r["source"], r["ts"], r["supplement"], r["raw"]) for r in doc["nodes"]]
                roots = build_tree(nodes if nodes is not None else self._live_nodes(), rows, doc["start_ms"])
            sides.append({"title": title, "doc": doc, "roots": roots})
        return super().get_context_data(item=item, sides=sides, **kwargs)

    def _live_nodes(self):
        from sessions.services import templates

        return templates.get_version(self.object.template_name, self.object.live_version).document["nodes"]
