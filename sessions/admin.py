"""Django admin: a read-mostly window on the data; templates are changed through import, not here."""
from django.contrib import admin

from .models import AnalysisTemplate, CorrelationReport, DeadLetter, LateEvent, Session, TemplateVersion


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the job (or immutable by design) are inspected, never edited by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class VersionInline(admin.TabularInline):
    model = TemplateVersion
    fields = ["number", "fingerprint", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AnalysisTemplate)
class AnalysisTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "updated_at"]
    search_fields = ["name"]
    readonly_fields = ["name", "created_at", "updated_at"]
    inlines = [VersionInline]


@admin.register(TemplateVersion)
class TemplateVersionAdmin(ReadOnlyAdmin):
    list_display = ["template", "number", "fingerprint", "created_by", "created_at"]
    list_filter = ["template"]


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ["session_key", "template", "status", "revision", "primary_conclusion", "start_ms", "duration_ms", "split"]
    list_filter = ["template", "status", "split"]
    search_fields = ["=session_key"]
    list_select_related = ["template"]
    show_full_result_count = False


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["template", "source", "reason", "origin", "created_ms"]
    list_filter = ["template", "source"]
    list_select_related = ["template"]


@admin.register(LateEvent)
class LateEventAdmin(ReadOnlyAdmin):
    list_display = ["template", "source", "node", "session_key", "event_ms", "reason", "replayed_ms"]
    list_filter = ["template", "source"]
    list_select_related = ["template"]


@admin.register(CorrelationReport)
class CorrelationReportAdmin(ReadOnlyAdmin):
    list_display = ["template", "created_at", "since_ms", "until_ms", "sessions", "complete", "split", "orphan_supplements"]
    list_filter = ["template"]
    list_select_related = ["template"]
