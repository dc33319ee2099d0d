"""Studio API for versions with review: proposals (approve, reject, activate, restart), rollback, audit log."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from sessions.api.views import RoleViewSetMixin
from sessions.choices import Role

from .. import tasks
from ..models import AuditEntry, Draft, Proposal
from ..services import review
from . import serializers


def _activation(activation: review.Activation) -> Response:
    return Response({"version": activation.version.number, "outcome": activation.outcome, "messages": list(activation.messages)})


@extend_schema(tags=["studio"])
class ProposalViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Proposals: editors propose a draft; admins (not the author) approve, then activate; reject; restart."""

    serializer_class = serializers.ProposalSerializer
    queryset = Proposal.objects.select_related("author", "reviewer")
    read_role = Role.EDITOR
    write_role = Role.ADMIN
    action_roles = {"create": Role.EDITOR}

    def _act(self, func, *args):
        try:
            return func(*args)
        except review.ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        except DjangoValidationError as exc:
            raise ValidationError({"detail": "the document does not compile", "errors": exc.messages}) from None

    @extend_schema(request=None, parameters=[OpenApiParameter("draft", int, required=True)],
                   responses={201: serializers.ProposalSerializer})
    def create(self, request):
        """Propose a draft (`?draft=<id>`): it must compile as a whole; the draft is consumed."""
        try:
            draft = get_object_or_404(Draft, pk=int(request.query_params.get("draft", "")))
        except ValueError:
            raise ValidationError({"draft": "give the draft's id: ?draft=<id>"}) from None
        proposal = self._act(review.propose, draft, request.user)
        return Response(serializers.ProposalSerializer(proposal).data, status=201)

    @extend_schema(request=serializers.ReviewCommentSerializer, responses=serializers.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = serializers.ReviewCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = self._act(review.approve, self.get_object(), request.user, body.validated_data["comment"])
        return Response(serializers.ProposalSerializer(proposal).data)

    @extend_schema(request=serializers.ReviewCommentSerializer, responses=serializers.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = serializers.ReviewCommentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = self._act(review.reject, self.get_object(), request.user, body.validated_data["comment"])
        return Response(serializers.ProposalSerializer(proposal).data)

    @extend_schema(request=None, responses=serializers.ActivationSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Save as the template's new version and push it to the running job; says hot update or restart needed."""
        return _activation(self._act(review.activate, self.get_object(), request.user))

    @extend_schema(request=None, responses={202: serializers.TaskSerializer})
    @action(detail=True, methods=["post"])
    def restart(self, request, pk=None):
        """Confirm the restart an activation needs: stop with a savepoint, start the new version (a Celery task)."""
        proposal = self.get_object()
        if proposal.status != Proposal.Status.ACTIVATED:
            raise ValidationError({"detail": "only an activated proposal's job can be restarted from here"})
        return Response({"task_id": tasks.restart_template_job.delay(proposal.template_name, request.user.pk).id}, status=202)


@extend_schema(tags=["studio"])
class AuditViewSet(RoleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The audit log of proposals, approvals, rejections, activations, rollbacks and restarts."""

    serializer_class = serializers.AuditSerializer
    read_role = Role.EDITOR

    def get_queryset(self):
        rows = AuditEntry.objects.select_related("actor")
        name = self.request.query_params.get("template")
        return rows.filter(template_name=name) if name else rows

    @extend_schema(parameters=[OpenApiParameter("template", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@extend_schema(tags=["studio"])
class RollbackViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """Make an earlier version's document current again (admin; audited)."""

    write_role = Role.ADMIN

    @extend_schema(request=serializers.RollbackSerializer, responses=serializers.ActivationSerializer)
    def create(self, request):
        body = serializers.RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            activation = review.rollback(body.validated_data["template"], body.validated_data["version"], request.user)
        except review.ReviewError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        return _activation(activation)


class VersionDiffSerializer(drf_serializers.Serializer):
    number = drf_serializers.IntegerField()
    author = drf_serializers.CharField(allow_null=True)
    created_at = drf_serializers.DateTimeField()
    diff = drf_serializers.CharField(help_text="Unified diff of the readable JSON from the version before")


@extend_schema(tags=["studio"])
class VersionViewSet(RoleViewSetMixin, viewsets.ViewSet):
    """A template's versions, newest first, each with author, time and the diff from the one before."""

    read_role = Role.EDITOR

    @extend_schema(parameters=[OpenApiParameter("template", str, required=True)], responses=VersionDiffSerializer(many=True))
    def list(self, request):
        name = request.query_params.get("template", "")
        rows = review.version_diffs(name)
        if not rows:
            raise NotFound(f"no template {name!r}")
        return Response([{"number": v.number, "author": v.created_by.username if v.created_by else None,
                          "created_at": v.created_at, "diff": diff} for v, diff in rows])
