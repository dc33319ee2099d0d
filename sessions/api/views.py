"""REST API (SPEC §6): the same FilterSets, services and roles as the console pages."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ..choices import Role
from ..filters import DeadLetterFilterSet, SessionFilterSet
from ..models import AnalysisTemplate, DeadLetter, TemplateVersion
from ..pagination import KeysetPagination
from ..permissions import HasRole
from ..services import reports, search, templates
from . import serializers
from .parsers import StrictJSONParser


class RoleViewSetMixin:
    """Reads need `read_role`, writes `write_role`; `action_roles` overrides per action."""

    permission_classes = [HasRole]
    read_role = Role.VIEWER
    write_role = Role.ADMIN
    action_roles: dict[str, str] = {}
    action_serializers: dict[str, type] = {}

    def get_serializer_class(self):
        return self.action_serializers.get(self.action, super().get_serializer_class())


@extend_schema(tags=["sessions"])
class SessionViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Search sessions (same filters as the console) and read one with its events, fields and conclusions."""

    queryset = search.search_queryset(listed=True)  # list pages as value tuples; `retrieve` reads one Session
    filterset_class = SessionFilterSet
    pagination_class = KeysetPagination
    serializer_class = serializers.SessionListSerializer
    action_serializers = {"retrieve": serializers.SessionDetailSerializer}


@extend_schema(tags=["templates"])
class TemplateViewSet(RoleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Analysis templates: list, current document with versions, export (reading: viewer), import (editor), correlation report."""

    queryset = templates.template_summaries().prefetch_related(
        Prefetch("versions", queryset=TemplateVersion.objects.select_related("created_by").order_by("-number"))
    )
    serializer_class = serializers.TemplateListSerializer
    action_serializers = {"retrieve": serializers.TemplateDetailSerializer}
    lookup_field = "name"
    lookup_value_regex = "[^/]+"
    write_role = Role.EDITOR
    filter_backends: list = []
    parser_classes = [StrictJSONParser]  # a template is a JSON document; form posts get 415

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("activate", bool, description="Activate at once (admin; propose + approve + activate, "
                                                                   "so it needs LUNA_STUDIO_SINGLE_ADMIN). Default: a studio draft.")],
        responses={
            202: OpenApiResponse(serializers.TemplateImportedSerializer, description="Imported as a studio draft: review it "
                                 "(wizard_url), propose it; an admin activates it."),
            201: OpenApiResponse(serializers.TemplateImportedSerializer, description="Activated: a new version was saved."),
            200: OpenApiResponse(serializers.TemplateImportedSerializer, description="Same document as the current version; nothing saved."),
            400: OpenApiResponse(serializers.ErrorsSerializer, description="Every validation error of the document, or a bad `activate`."),
            403: OpenApiResponse(description="Not an editor; or activation asked by a non-admin, or by an admin without "
                                             "LUNA_STUDIO_SINGLE_ADMIN (maker/checker)."),
        },
        summary="Import a template document (SPEC §2) for review",
    )
    def create(self, request: Request) -> Response:
        from studio.services import imports  # review (maker/checker) is the studio's

        flag = request.query_params.get("activate", "false").lower()
        if flag not in ("true", "false", "1", "0"):
            return Response({"errors": ["activate must be true or false"]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = imports.import_document(request.data, request.user, activate=flag in ("true", "1"))
        except ValidationError as exc:
            return Response({"errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        version = result.version
        body = {"name": result.name, "outcome": result.outcome, "version": version.number if version else None,
                "created": result.outcome == "activated", "fingerprint": version.fingerprint if version else None,
                "draft": result.draft.pk if result.draft else None, "wizard_url": result.wizard_url,
                "job": result.job, "rollout": list(result.rollout)}
        code = {"draft": status.HTTP_202_ACCEPTED, "activated": status.HTTP_201_CREATED}.get(result.outcome, status.HTTP_200_OK)
        return Response(body, status=code)

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="Version number (default: current).")],
        responses={200: OpenApiTypes.OBJECT},
        summary="Export a template document",
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, name: str) -> Response:
        number = request.query_params.get("version")
        try:
            version = templates.get_version(name, int(number) if number else None)
        except (TemplateVersion.DoesNotExist, ValueError):
            raise Http404("No such template version.") from None
        response = Response(version.document)
        response["Content-Disposition"] = f'attachment; filename="{templates.export_filename(version)}"'
        return response

    @extend_schema(
        methods=["GET"],
        request=None,
        responses={
            200: serializers.CorrelationReportSerializer,
            404: OpenApiResponse(description="No such template, or no report built yet."),
        },
        summary="Latest correlation report of a template",
        description="Sessions by status, complete/split/late %, accepted and rejected lines per source and reason, durations.",
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.ReportWindowSerializer,
        responses={201: serializers.CorrelationReportSerializer, 400: OpenApiResponse(description="Bad window.")},
        summary="Build and store a new correlation report (editor)",
        description="An empty body reports all time; `since_ms`/`until_ms` bound it (session start, epoch ms).",
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def report(self, request: Request, name: str) -> Response:
        template = get_object_or_404(AnalysisTemplate, name=name)
        if request.method == "GET":
            latest = reports.latest_report(template)
            if latest is None:
                raise Http404("No correlation report yet; POST here to build one.")
            return Response(serializers.CorrelationReportSerializer(latest).data)
        window = serializers.ReportWindowSerializer(data=request.data)
        window.is_valid(raise_exception=True)
        report = reports.build_report(template, window.validated_data.get("since_ms"), window.validated_data.get("until_ms"))
        return Response(serializers.CorrelationReportSerializer(report).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["dead letters"])
class DeadLetterViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Rejected input lines with their reason, filterable by template, source and reason."""

    queryset = DeadLetter.objects.select_related("template").order_by("-created_ms", "-id")
    filterset_class = DeadLetterFilterSet
    serializer_class = serializers.DeadLetterSerializer
