"""Analytics API: macro queries, dashboards and alerts (viewers read, editors change), panel data for the page."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from pydantic import ValidationError
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions.choices import Role
from sessions.permissions import HasRole

from ..models import AlertFiring, AlertRule, Dashboard
from ..query.spec import MacroQuery
from ..services import alerts, dashboards, macro, replica
from . import serializers


@extend_schema(tags=["analytics"])
class MacroQueryView(APIView):
    """Run a typed macro query; the answer says whether the rollups, the session fact table or the key-value rows
    answered, and why."""

    permission_classes = [HasRole]
    read_role = write_role = Role.VIEWER  # POST carries the query; it changes nothing

    @extend_schema(request=serializers.MacroQuerySerializer, responses={200: serializers.MacroResultSerializer, 400: OpenApiResponse(description="Bad query")})
    def post(self, request: Request) -> Response:
        try:
            query = MacroQuery.model_validate(request.data)
            return Response(macro.run(query).as_dict())
        except ValidationError as exc:
            return Response({"errors": serializers.pydantic_errors(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except macro.QueryError as exc:
            return Response({"errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)


@extend_schema(tags=["analytics"])
class DashboardViewSet(viewsets.ModelViewSet):
    """Saved dashboards: shared ones and the caller's own. Editors create, change and delete them."""

    permission_classes = [HasRole]
    read_role, write_role = Role.VIEWER, Role.EDITOR
    serializer_class = serializers.DashboardSerializer
    filter_backends: list = []
    queryset = Dashboard.objects.none()  # the schema's path types; requests use get_queryset (shared + own)

    def get_queryset(self):
        return dashboards.visible_dashboards(self.request.user)

    def perform_create(self, serializer) -> None:
        serializer.save(owner=self.request.user)


@extend_schema(tags=["analytics"])
class DashboardDataView(APIView):
    """Figures of a dashboard's panels (or the template's default panels) for a range and granularity."""

    permission_classes = [HasRole]
    read_role = Role.VIEWER

    @extend_schema(parameters=[serializers.DataRequestSerializer], responses={200: serializers.PanelDataSerializer(many=True)})
    def get(self, request: Request) -> Response:
        params = serializers.DataRequestSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            template = macro.template_for(data["template"])
        except macro.QueryError as exc:
            return Response({"errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        board = None
        if data.get("dashboard"):
            board = get_object_or_404(dashboards.visible_dashboards(request.user), pk=data["dashboard"], template=template)
        panels = dashboards.panels_of(template, board)
        out = dashboards.panel_data(template, panels, data["since_ms"], data["until_ms"], data["granularity"], data["tz"])
        if board is None:
            out.append(dashboards.trend_panel(template, data["since_ms"], data["until_ms"], len(out)))
        return Response(out)


@extend_schema(tags=["analytics"])
class AlertRuleViewSet(viewsets.ModelViewSet):
    """Alert rules on macro series; editors create, change, silence and delete them."""

    permission_classes = [HasRole]
    read_role, write_role = Role.VIEWER, Role.EDITOR
    serializer_class = serializers.AlertRuleSerializer
    queryset = AlertRule.objects.select_related("template")
    filter_backends: list = []

    def perform_create(self, serializer) -> None:
        serializer.save(created_by=self.request.user)

    @extend_schema(request=serializers.SilenceSerializer, responses={200: serializers.AlertRuleSerializer})
    @action(detail=True, methods=["post"])
    def silence(self, request: Request, pk: str | None = None) -> Response:
        body = serializers.SilenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = self.get_object()
        alerts.silence(rule, body.validated_data["minutes"])
        return Response(self.get_serializer(rule).data)


@extend_schema(tags=["analytics"])
class AlertFiringViewSet(viewsets.ReadOnlyModelViewSet):
    """Every firing of every rule, newest first; editors resolve an open one by hand."""

    permission_classes = [HasRole]
    read_role, write_role = Role.VIEWER, Role.EDITOR
    serializer_class = serializers.AlertFiringSerializer
    queryset = AlertFiring.objects.select_related("rule")
    filter_backends: list = []

    @extend_schema(request=None, responses={200: serializers.AlertFiringSerializer})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        firing = self.get_object()
        if firing.resolved_at is None:
            alerts.resolve(firing, request.user.get_username())
        return Response(self.get_serializer(firing).data)


@extend_schema(tags=["analytics"])
class ReplicaStatusView(APIView):
    """The columnar replica of the session fact table: days held, days stale (read from the row store meanwhile)."""

    permission_classes = [HasRole]
    read_role = Role.VIEWER

    @extend_schema(parameters=[serializers.ReplicaRequestSerializer], responses={200: serializers.ReplicaStatusSerializer})
    def get(self, request: Request) -> Response:
        params = serializers.ReplicaRequestSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            template = macro.template_for(params.validated_data["template"])
        except macro.QueryError as exc:
            return Response({"errors": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(replica.status(template))
