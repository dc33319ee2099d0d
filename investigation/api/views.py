"""Investigation API: the same services and roles as the console (viewers work cases, editors decide splits)."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sessions.api.views import RoleViewSetMixin
from sessions.choices import Role
from sessions.models import AnalysisTemplate
from sessions.services import session_page

from ..models import QueryRun, SavedQuery, SplitDecision
from ..services import actions, adhoc, cases, compare, precision
from . import serializers


def _run(action_name: str, session_pk: int, data: dict, user) -> Response:
    try:
        message, show = actions.run(action_name, session_pk, data, user)
    except actions.ActionError as exc:
        raise ValidationError({"detail": str(exc)}) from None
    return Response({"message": message, "session_id": show})


@extend_schema(tags=["investigation"])
class CaseViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Cases by session id; POST actions assign, move, comment and judge (viewer role, like the console)."""

    serializer_class = serializers.CaseSerializer
    lookup_field = "session_id"
    write_role = Role.VIEWER

    def get_queryset(self):
        params = self.request.query_params
        user = self.request.user if params.get("mine") else None
        return cases.queue(user, params.get("conclusion", ""), params.get("status", ""), params.get("template", "")).prefetch_related("events__author")

    def _act(self, request, session_id: int, name: str, serializer_class) -> Response:
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        return _run(name, int(session_id), body.validated_data, request.user)

    @extend_schema(request=serializers.AssignSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, session_id=None):
        return self._act(request, session_id, "assign", serializers.AssignSerializer)

    @extend_schema(request=serializers.StatusSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, session_id=None):
        return self._act(request, session_id, "status", serializers.StatusSerializer)

    @extend_schema(request=serializers.CommentSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=True, methods=["post"])
    def comment(self, request, session_id=None):
        return self._act(request, session_id, "comment", serializers.CommentSerializer)

    @extend_schema(request=serializers.GiveVerdictSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=True, methods=["post"])
    def verdict(self, request, session_id=None):
        return self._act(request, session_id, "verdict", serializers.GiveVerdictSerializer)

    def get_object(self):
        return get_object_or_404(self.get_queryset(), session_id=self.kwargs["session_id"])


@extend_schema(tags=["investigation"])
class SplitViewSet(RoleViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Split-pair decisions (the audit trail); merge or keep a pair (editor)."""

    serializer_class = serializers.SplitDecisionSerializer
    queryset = SplitDecision.objects.select_related("template", "author")
    write_role = Role.EDITOR

    def _decide(self, request, name: str) -> Response:
        body = serializers.PairSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _run(name, body.validated_data["first"], {"other": body.validated_data["second"]}, request.user)

    @extend_schema(request=serializers.PairSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=False, methods=["post"])
    def merge(self, request):
        return self._decide(request, "merge")

    @extend_schema(request=serializers.PairSerializer, responses=serializers.ActionResultSerializer)
    @action(detail=False, methods=["post"])
    def keep(self, request):
        return self._decide(request, "keep")


@extend_schema(tags=["investigation"])
class InsightViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """Two sessions compared; rule precision of a template from the verdicts."""

    @extend_schema(parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True)],
                   responses=serializers.ComparisonSerializer)
    @action(detail=False, methods=["get"])
    def compare(self, request):
        try:
            left, right = int(request.query_params["a"]), int(request.query_params["b"])
        except (KeyError, ValueError):
            raise ValidationError({"detail": "give two session ids: ?a=<id>&b=<id>"}) from None
        result = compare.compare(actions.session(left), actions.session(right))
        return Response({"left": left, "right": right,
                         "fields": [dict(vars(f), differs=f.differs) for f in result["fields"]],
                         "conclusions_only_left": result["conclusions_only_left"],
                         "conclusions_only_right": result["conclusions_only_right"]})

    @extend_schema(parameters=[OpenApiParameter("template", str, required=True)], responses=serializers.PrecisionSerializer(many=True))
    @action(detail=False, methods=["get"])
    def precision(self, request):
        template = get_object_or_404(AnalysisTemplate, name=request.query_params.get("template", ""))
        return Response([dict(vars(r), precision=r.precision) for r in precision.rule_precision(template.pk)])


@extend_schema(tags=["investigation"])
class SqlViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """Read-only ad-hoc SQL (editor): run one SELECT, list and save queries, read the audit of runs."""

    read_role = Role.EDITOR
    write_role = Role.EDITOR

    @extend_schema(request=serializers.SqlSerializer, responses=serializers.SqlResultSerializer)
    @action(detail=False, methods=["post"])
    def run(self, request):
        body = serializers.SqlSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = adhoc.run(body.validated_data["sql"], request.user)
        except adhoc.QueryRefused as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response({"columns": result.columns, "rows": [[_plain(v) for v in row] for row in result.rows],
                         "truncated": result.truncated, "duration_ms": result.duration_ms, "backend": result.backend})

    @extend_schema(request=serializers.SavedQuerySerializer, responses=serializers.SavedQuerySerializer(many=True))
    @action(detail=False, methods=["get", "post"])
    def saved(self, request):
        if request.method == "POST":
            body = serializers.SavedQuerySerializer(data=request.data)
            body.is_valid(raise_exception=True)
            try:
                adhoc.check(body.validated_data["sql"])
            except adhoc.QueryRefused as exc:
                raise ValidationError({"detail": str(exc)}) from None
            SavedQuery.objects.update_or_create(name=body.validated_data["name"],
                                                defaults={"sql": body.validated_data["sql"], "author": request.user})
        return Response(serializers.SavedQuerySerializer(SavedQuery.objects.select_related("author"), many=True).data)

    @extend_schema(responses=serializers.QueryRunSerializer(many=True))
    @action(detail=False, methods=["get"])
    def runs(self, request):
        return Response(serializers.QueryRunSerializer(QueryRun.objects.select_related("author")[:100], many=True).data)


def _plain(value):
    """JSON-safe cell: bytes as text, numbers and text as they are, anything else as its string."""
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return session_page.finite(value)
    return str(value)
