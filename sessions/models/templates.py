"""Analysis templates: a named template with immutable, numbered versions of its JSON document."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from jobs.sessionize.logic.template import CompiledTemplate, TemplateError, compile_template


class AnalysisTemplate(models.Model):
    """The unit of configuration (SPEC §2); its sessions and job runs hang off it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "luna_template"
        ordering = ["name"]
        verbose_name = "analysis template"

    def __str__(self) -> str:
        return self.name

    @property
    def current_version(self) -> "TemplateVersion | None":
        return self.versions.order_by("-number").first()


class TemplateVersion(models.Model):
    """One saved document; validated (rules compiled) before it is stored, never edited afterwards."""

    template = models.ForeignKey(AnalysisTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField(help_text="The template document of SPEC §2.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical document.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "luna_template_version"
        ordering = ["template", "-number"]
        constraints = [models.UniqueConstraint(fields=["template", "number"], name="luna_template_version_unique")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    def clean(self) -> None:
        try:
            compiled = compile_template(self.document)
        except TemplateError as exc:
            raise ValidationError({"document": exc.errors}) from None
        if self.template_id and compiled.name != self.template.name:
            raise ValidationError({"document": [f"name: {compiled.name!r} does not match template {self.template.name!r}"]})

    def compile(self) -> CompiledTemplate:
        return compile_template(self.document, version=self.number)
