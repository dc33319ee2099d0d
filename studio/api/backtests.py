"""Studio API: backtests (ask, follow, cancel)."""
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers as drf, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from sessions.api.views import RoleViewSetMixin
from sessions.choices import Role

from .. import tasks
from ..models import Backtest, Draft
from ..services import backtest


class RuleFeedbackSerializer(drf.Serializer):
    """Feedback from verdicts for one conclusion rule (studio/services/feedback.py)."""

    conclusion = drf.CharField()
    live_precision = drf.FloatField(allow_null=True, help_text="Confirmed share of all verdicts on the live version.")
    live_judged = drf.IntegerField()
    judged_in_range = drf.IntegerField(help_text="Verdict-labelled sessions the backtest replayed.")
    confirmed_lost = drf.IntegerField()
    false_positive_kept = drf.IntegerField()
    false_positive_gained = drf.IntegerField()
    false_positive_dropped = drf.IntegerField()
    precision_before = drf.FloatField(allow_null=True, help_text="On the labelled sessions of the range: live version.")
    precision_after = drf.FloatField(allow_null=True, help_text="The same sessions: draft.")
    worse = drf.BooleanField(help_text="The draft loses confirmed sessions, gains false positives or lowers precision.")
    reasons = drf.ListField(child=drf.CharField())


class BacktestSerializer(drf.ModelSerializer):
    feedback = drf.SerializerMethodField()

    @extend_schema_field(RuleFeedbackSerializer(many=True))
    def get_feedback(self, item: Backtest) -> list:
        return (item.result or {}).get("feedback", [])

    class Meta:
        model = Backtest
        fields = ["id", "template_name", "live_version", "start_ms", "end_ms", "status", "engine", "phase", "progress", "total",
                  "result", "feedback", "error",
                  "created_at", "finished_at"]
        read_only_fields = fields


class BacktestRequestSerializer(drf.Serializer):
    draft = drf.IntegerField()
    start_ms = drf.IntegerField(min_value=0, max_value=2**62)
    end_ms = drf.IntegerField(min_value=0, max_value=2**62)


@extend_schema(tags=["studio"])
class BacktestViewSet(RoleViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A draft over a time range of the stored input next to the live version (a Celery task: the pure engine
    for small ranges, a bounded Flink job beyond; `engine` and `result.plan` say which); cancellable."""

    serializer_class = BacktestSerializer
    queryset = Backtest.objects.all()
    read_role = Role.EDITOR
    write_role = Role.EDITOR

    @extend_schema(request=BacktestRequestSerializer, responses={202: BacktestSerializer})
    def create(self, request, *args, **kwargs):
        body = BacktestRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        draft = Draft.objects.filter(pk=data["draft"]).first()
        if draft is None:
            raise ValidationError({"draft": "no such draft"})
        try:
            item = backtest.request(draft, data["start_ms"], data["end_ms"], request.user)
        except backtest.BacktestError as exc:
            raise ValidationError({"detail": str(exc)}) from None
        tasks.run_backtest.delay(item.pk)
        return Response(BacktestSerializer(item).data, status=202)

    @extend_schema(request=None, responses=BacktestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        item = self.get_object()
        backtest.cancel(item)
        item.refresh_from_db()
        return Response(BacktestSerializer(item).data)
