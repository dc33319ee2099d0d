"""One form (or formset) per wizard step; each validates its own part of the document with the job's compiler.

`to_part` turns a step's cleaned data into document sections and `initial` reads them back, so a stored draft
(or an imported document) opens at any step with its values filled in.
"""
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet, formset_factory

from jobs.sessionize.logic.template import SEVERITY_RANK

from sessions.services import json_documents

from .services import drafts, samples

TIME_FORMATS = ("epoch_s", "epoch_ms", "iso8601", *samples.STRFTIME_CANDIDATES)
FIELD_TYPES = [(t, t) for t in ("string", "number", "bool", "time")]
SEVERITIES = [(s, s) for s in SEVERITY_RANK]
MAX_UPLOAD = 1_000_000  # bytes of an imported document


class DocumentFormSet(BaseFormSet):
    """A formset that knows the draft (for choices and for checking its part against the rest)."""

    step = ""

    def __init__(self, *args, document: dict[str, Any] | None = None, **kwargs):
        self.document = document or {}
        kwargs.setdefault("form_kwargs", {})["document"] = self.document
        super().__init__(*args, **kwargs)

    def rows(self) -> list[dict[str, Any]]:
        return [f.cleaned_data for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]

    def clean(self) -> None:
        if any(self.errors):
            return
        problems = drafts.step_errors({**self.document, **to_part(self.step, self.rows())}, self.step)
        if problems:
            raise ValidationError(problems)


class DraftForm(forms.Form):
    def __init__(self, *args, document: dict[str, Any] | None = None, **kwargs):
        self.document = document or {}
        super().__init__(*args, **kwargs)


class SourceForm(DraftForm):
    name = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)
    location = forms.CharField(max_length=500, help_text="A directory under the data directory.")
    topic = forms.CharField(max_length=249, required=False, label="Kafka topic",
                            help_text="Production input when Kafka is configured (else the source's name); "
                                      "samples come from the directory.")
    time_path = forms.CharField(max_length=200, label="Time field (dotted path)")
    time_format = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"list": "studio-time-formats"}), help_text="epoch_s, epoch_ms, iso8601 or a strftime pattern")
    tz = forms.CharField(max_length=10, required=False, label="Zone", help_text="For times without an offset, e.g. +08:00")
    field_paths = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "class": "field-paths"}), required=False, label="Fields",
                             help_text="One 'name = dotted.path' per line; click a sample value to add one.")

    def clean_location(self) -> str:
        location = self.cleaned_data["location"].strip()
        try:
            samples.read_lines(location, 1)
        except samples.SampleError as exc:
            raise ValidationError(str(exc)) from None
        return location

    def clean_field_paths(self) -> dict[str, str]:
        fields, problems = drafts.parse_field_lines(self.cleaned_data.get("field_paths", ""))
        if problems:
            raise ValidationError(problems)
        return fields

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if {"location", "time_path", "time_format"} <= set(data):
            records = samples.parsed(samples.read_lines(data["location"]))
            try:
                rows = samples.time_rows(records, data["time_path"], data["time_format"], data.get("tz") or None)
            except ValueError as exc:
                raise ValidationError({"time_format": str(exc)}) from None
            failing = [f"sample {i}: {row.raw!r} — {row.error}" for i, row in enumerate(rows, 1) if row.error]
            if failing:
                suggested = samples.suggest_format(records, data["time_path"])
                hint = f" The samples suggest {suggested!r}." if suggested else ""
                raise ValidationError({"time_format": [f"{len(failing)} of {len(rows)} samples fail to parse.{hint}", *failing[:10]]})
        return data


class NodeForm(DraftForm):
    name = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)
    label = forms.CharField(max_length=200, required=False)
    source = forms.ChoiceField(choices=())
    parent = forms.CharField(max_length=60, required=False, help_text="Empty for the root.")
    when = forms.CharField(max_length=2000, required=False, label="When (rule on the record)")
    join_on = forms.CharField(max_length=60, required=False, label="Supplement: join field",
                              help_text="Empty for a baseline node (its events open sessions).")
    lower = forms.CharField(max_length=20, required=False, initial="0s")
    upper = forms.CharField(max_length=20, required=False, initial="+1h")
    many = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [(s["name"], s["name"]) for s in self.document.get("sources") or []]


class SessionForm(DraftForm):
    key = forms.ChoiceField(choices=(), label="Session key field")
    gap = forms.CharField(max_length=20, initial="20m")
    timeout = forms.CharField(max_length=20, initial="30s")
    allowed_lateness = forms.CharField(max_length=20, initial="2h")
    out_of_orderness = forms.CharField(max_length=20, initial="10s")
    complete_when = forms.MultipleChoiceField(choices=(), required=False, widget=forms.CheckboxSelectMultiple,
                                              help_text="The session is complete when all of these nodes are present.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        aliases = sorted({a for s in self.document.get("sources") or [] for a in (s.get("fields") or {})})
        self.fields["key"].choices = [(a, a) for a in aliases]
        self.fields["complete_when"].choices = [(n["name"], n.get("label") or n["name"]) for n in self.document.get("nodes") or []]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            problems = drafts.step_errors({**self.document, **to_part("session", data)}, "session")
            if problems:
                raise ValidationError(problems)
        return data


class FieldForm(DraftForm):
    name = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)
    expr = forms.CharField(max_length=2000, label="Expression")
    type = forms.ChoiceField(choices=FIELD_TYPES)


class ConclusionForm(DraftForm):
    name = forms.RegexField(regex=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)
    label = forms.CharField(max_length=200, required=False)
    severity = forms.ChoiceField(choices=SEVERITIES, initial="medium")
    when = forms.CharField(max_length=2000, label="Holds when")


class DimensionsForm(DraftForm):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    dimensions = forms.MultipleChoiceField(choices=(), required=False, widget=forms.CheckboxSelectMultiple,
                                           help_text="Fields to break reports down by.")
    retention = forms.CharField(max_length=20, required=False, help_text="e.g. 90d; empty keeps sessions.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted({a for s in self.document.get("sources") or [] for a in (s.get("fields") or {})}
                       | {f["name"] for f in self.document.get("fields") or []})
        self.fields["dimensions"].choices = [(n, n) for n in names]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            problems = drafts.step_errors({**self.document, **to_part("dimensions", data)}, "dimensions")
            if problems:
                raise ValidationError(problems)
        return data


class ReviewForm(DraftForm):
    """Saving needs the whole document to compile (the job's compiler) and its locations to be allowed."""

    def clean(self) -> dict[str, Any]:
        problems = drafts.step_errors(self.document, "review")
        if problems:
            raise ValidationError(problems)
        return super().clean()


class NewDraftForm(forms.Form):
    """A draft of a new template, of an existing one, or of an imported JSON document (opens in the wizard)."""

    name = forms.RegexField(regex=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100, required=False,
                            help_text="A new template's name, or an existing template to change.")
    upload = forms.FileField(required=False, label="Or import a JSON document")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("upload")
        if upload:
            try:
                document = json_documents.loads(upload.read(MAX_UPLOAD + 1) if upload.size <= MAX_UPLOAD else b"x")
                json_documents.check(document)
            except (json_documents.DocumentError, ValueError) as exc:
                raise ValidationError({"upload": f"not a usable JSON document: {exc}"}) from None
            if not isinstance(document, dict) or not isinstance(document.get("name"), str):
                raise ValidationError({"upload": "the document must be a JSON object with a name"})
            data["document"], data["name"] = document, data.get("name") or document["name"]
        if not data.get("name"):
            raise ValidationError({"name": "Give the template a name (or import a document)."})
        return data


def _formset(form: type, step: str, min_num: int) -> type:
    base = type(f"{form.__name__}Set", (DocumentFormSet,), {"step": step})
    return formset_factory(form, formset=base, extra=0, min_num=min_num, validate_min=True, can_delete=True)


SourceFormSet = _formset(SourceForm, "sources", 1)
NodeFormSet = _formset(NodeForm, "tree", 1)
FieldFormSet = _formset(FieldForm, "fields", 0)
ConclusionFormSet = _formset(ConclusionForm, "conclusions", 0)
STEP_FORMS = [("sources", SourceFormSet), ("tree", NodeFormSet), ("session", SessionForm), ("fields", FieldFormSet),
              ("conclusions", ConclusionFormSet), ("dimensions", DimensionsForm), ("review", ReviewForm)]


def to_part(step: str, data: Any) -> dict[str, Any]:
    """A step's cleaned data → the document sections it owns."""
    if step == "sources":
        return {"sources": [{"name": r["name"], "location": r["location"], "format": "json",
                             "time": {"path": r["time_path"], "format": r["time_format"], **({"tz": r["tz"]} if r.get("tz") else {})},
                             "fields": r.get("field_paths") or {}, **({"topic": r["topic"]} if r.get("topic") else {})}
                            for r in data]}
    if step == "tree":
        nodes = []
        for r in data:
            node = {"name": r["name"], "source": r["source"], "parent": r.get("parent") or None}
            node.update({k: r[k] for k in ("when", "label") if r.get(k)})
            if r.get("many"):
                node["many"] = True
            if r.get("join_on"):
                node["join"] = {"on": r["join_on"], "lower": r.get("lower") or "0s", "upper": r.get("upper") or "+1h"}
            nodes.append(node)
        return {"nodes": nodes}
    if step == "session":
        return {"session": {k: data[k] for k in ("key", "gap", "timeout", "allowed_lateness", "out_of_orderness", "complete_when")}}
    if step == "fields":
        return {"fields": [{"name": r["name"], "expr": r["expr"], "type": r["type"]} for r in data]}
    if step == "conclusions":
        return {"conclusions": [{"name": r["name"], "when": r["when"], "severity": r["severity"], "label": r.get("label") or ""}
                                for r in data]}
    if step == "dimensions":
        part = {"description": data.get("description", ""), "dimensions": list(data.get("dimensions") or [])}
        part["retention"] = data.get("retention") or None
        return part
    return {}


def initial(step: str, document: dict[str, Any]) -> Any:
    """What a step shows for a stored draft (the inverse of `to_part`)."""
    if step == "sources":
        return [{"name": s.get("name"), "location": s.get("location"), "time_path": (s.get("time") or {}).get("path"),
                 "time_format": (s.get("time") or {}).get("format"), "tz": (s.get("time") or {}).get("tz", ""),
                 "field_paths": drafts.field_lines(s.get("fields") or {}), "topic": s.get("topic", "")}
                for s in document.get("sources") or []]
    if step == "tree":
        return [{"name": n.get("name"), "label": n.get("label", ""), "source": n.get("source"), "parent": n.get("parent") or "",
                 "when": n.get("when") or "", "many": bool(n.get("many")), "join_on": (n.get("join") or {}).get("on", ""),
                 "lower": (n.get("join") or {}).get("lower", ""), "upper": (n.get("join") or {}).get("upper", "")}
                for n in document.get("nodes") or []]
    if step == "session":
        return dict(document.get("session") or {})
    if step in ("fields", "conclusions"):
        return list(document.get(step) or [])
    if step == "dimensions":
        return {"description": document.get("description", ""), "dimensions": document.get("dimensions") or [],
                "retention": document.get("retention") or ""}
    return {}
