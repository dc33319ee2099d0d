"""Studio API: everything the wizard does, for editors (the same services as the pages)."""
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from jobs.sessionize.logic.template import TemplateError
from sessions.api.views import RoleViewSetMixin
from sessions.choices import Role
from sessions.services import json_documents, tree

from ..models import Draft
from ..services import checks, drafts, dry_run, samples
from . import serializers


@extend_schema(tags=["studio"])
class DraftViewSet(RoleViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin,
                   viewsets.ReadOnlyModelViewSet):
    """Drafts of the wizard: create (new, existing template or imported document), read, replace, delete, dry-run."""

    serializer_class = serializers.DraftSerializer
    queryset = Draft.objects.select_related("owner")
    read_role = Role.EDITOR
    write_role = Role.EDITOR

    @extend_schema(request=serializers.NewDraftSerializer, responses={201: serializers.DraftSerializer})
    def create(self, request, *args, **kwargs):
        body = serializers.NewDraftSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = body.validated_data.get("document")
        _check_document(document)
        draft = drafts.new_draft(body.validated_data["name"], request.user, document)
        return Response(serializers.DraftSerializer(draft).data, status=201)

    def perform_update(self, serializer):
        """The document's name stays the draft's (a draft belongs to one template)."""
        document = serializer.validated_data.get("document")
        _check_document(document)
        if isinstance(document, dict):
            serializer.validated_data["document"] = {**document, "name": serializer.instance.name}
        serializer.save()

    @extend_schema(request=None, responses=serializers.DryRunSerializer)
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """The draft over the sample files through the job's own engine (bounded in lines and time)."""
        draft = get_object_or_404(Draft, pk=pk)
        try:
            result = dry_run.run(draft.document)
        except TemplateError as exc:
            raise ValidationError({"detail": "the draft does not compile", "errors": exc.errors}) from None
        except samples.SampleError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return Response({
            "lines": result.lines, "seconds": result.seconds, "truncated": result.truncated,
            "conclusions": dict(result.conclusions), "rejected": dict(result.rejected), "rule_errors": dict(result.rule_errors),
            "orphans": result.orphans, "late": result.late,
            "sessions": [{"session_key": d["session_key"], "status": d["status"], "start_ms": d["start_ms"],
                          "primary_conclusion": d["primary_conclusion"], "conclusions": [c["name"] for c in d["conclusions"]],
                          "nodes": sorted({n["node"] for n in d["nodes"]})} for d in result.sessions],
        })


def _check_document(document) -> None:
    if document is None:
        return
    try:
        json_documents.check(document)
    except json_documents.DocumentError as exc:
        raise ValidationError({"document": str(exc)}) from None
    if not isinstance(document, dict):
        raise ValidationError({"document": "must be a JSON object"})


@extend_schema(tags=["studio"])
class StudioViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """Helpers of the wizard's steps: expression check, sample lines, live tree."""

    read_role = Role.EDITOR
    write_role = Role.EDITOR

    @extend_schema(request=serializers.CheckRequestSerializer, responses=serializers.CheckResultSerializer)
    @action(detail=False, methods=["post"])
    def check(self, request):
        """Compile a rule against the draft's vocabulary; errors with their column, and its value on the samples."""
        body = serializers.CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        draft = get_object_or_404(Draft, pk=data["draft"])
        document = data.get("document")
        _check_document(document)
        result = checks.check(document if isinstance(document, dict) else draft.document, data["kind"], data["expr"], data["node"])
        return Response({"ok": not result.errors, "errors": result.errors, "values": result.values, "note": result.note})

    @extend_schema(parameters=[OpenApiParameter("location", str, required=True), OpenApiParameter("time_path", str),
                               OpenApiParameter("time_format", str), OpenApiParameter("tz", str)],
                   responses=serializers.SamplesSerializer)
    @action(detail=False, methods=["get"])
    def samples(self, request):
        """Sample lines of a directory, their value paths, the suggested time format and the parsed times."""
        params = request.query_params
        location = params.get("location", "")
        try:
            lines = samples.read_lines(location)
        except samples.SampleError as exc:
            raise ValidationError({"location": str(exc)}) from None
        records = samples.parsed(lines)
        path = params.get("time_path", "")
        suggested = samples.suggest_format(records, path) if path else None
        times, time_error = [], ""
        fmt = params.get("time_format") or suggested
        if path and fmt:
            try:
                times = [vars(row) for row in samples.time_rows(records, path, fmt, params.get("tz") or None)]
            except ValueError as exc:
                time_error = str(exc)
        paths = list(dict.fromkeys(p for r in records if isinstance(r, dict) for p, _ in samples.leaf_paths(r)))
        return Response({"location": location, "lines": lines, "records": records, "paths": paths,
                         "suggested_format": suggested, "times": times, "time_error": time_error})

    @extend_schema(request=serializers.TreeRequestSerializer, responses=serializers.TreeSerializer)
    @action(detail=False, methods=["post"])
    def tree(self, request):
        """The behaviour tree of a list of nodes, drawn by the session page's own template."""
        body = serializers.TreeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        roots = tree.build_tree(body.validated_data["nodes"], [], 0)
        return Response({"html": render_to_string("studio/_tree.html", {"tree_roots": roots})})
