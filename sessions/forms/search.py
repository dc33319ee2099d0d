"""Form pieces behind the search FilterSets: UTC datetimes, durations, names checked against the catalog."""
import datetime as dt
from functools import cached_property

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from ..models import AnalysisTemplate, SavedSearch
from ..services import conditions
from ..services.catalog import Catalog, catalog
from ..services.search import parse_min_duration_ms, resolve_template_ids


def template_choices() -> list[tuple[str, str]]:
    """Evaluated lazily by the widget, so the API (which never renders it) pays no query."""
    return [("", "All templates"), *((name, name) for name in AnalysisTemplate.objects.values_list("name", flat=True))]


PLACEHOLDERS = {
    "key": "exact key, or ORD-10*", "field": "e.g. channel", "value": "e.g. alipay, 6 or ORD-10*",
    "where": "amount_value > 100\nchannel = alipay", "q": "Paste an order id, trans_id or any field value (ORD-10* for a prefix)…",
    "since": "2024-05-01 08:00", "until": "2024-05-02", "min_duration": "e.g. 30s, 5m",
}


class UTCDateTimeField(forms.DateTimeField):
    """ISO date or datetime; a value without an offset is UTC, matching how the console shows times."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            moment = value
        else:
            text = str(value).strip()
            try:
                moment = parse_datetime(text.replace(" ", "T", 1))
                day = None if moment else parse_date(text)
            except ValueError:
                raise ValidationError("Enter an ISO date or datetime, e.g. 2024-05-01 or 2024-05-01T08:30:00Z.") from None
            if moment is None and day is None:
                raise ValidationError("Enter an ISO date or datetime, e.g. 2024-05-01 or 2024-05-01T08:30:00Z.")
            moment = moment or dt.datetime(day.year, day.month, day.day)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class DurationMsField(forms.CharField):
    """"30s", "5m", "1.5h" or plain seconds → milliseconds."""

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_min_duration_ms(text)
        except ValueError:
            raise ValidationError("Enter a duration such as 30s, 5m, 2h or a number of seconds.") from None


class LinesTextarea(forms.Textarea):
    """A textarea that also takes the parameter repeated (`?where=a>1&where=b=x`), one line per value."""

    def value_from_datadict(self, data, files, name):
        getlist = getattr(data, "getlist", None)
        return "\n".join(getlist(name)) if getlist else data.get(name)


def _invalid(message: str) -> ValidationError:
    """A message quoting user text as a parameter: a `%` in it (conclusion=50%) must not be read as a format
    directive by whoever renders the error (django-filter's API errors format every message; a 500 otherwise)."""
    return ValidationError("%(message)s", params={"message": message})


def _known(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:30]) + (" …" if len(names) > 30 else "")
    return f"known {kind}: {shown}" if names else f"this template declares no {kind}"


class SessionSearchForm(forms.Form):
    """Base form of SessionFilterSet; django-filter adds the fields, this offers and checks the template's names."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "template" in self.fields:
            cache: list[tuple[str, str]] = []
            self.fields["template"].widget = forms.Select(choices=lambda: cache or cache.extend(template_choices()) or cache)
        if "conclusion" in self.fields:
            self.fields["conclusion"].widget = forms.Select(choices=lambda: [("", "Any conclusion"), *(
                (item.name, item.label) for item in self.catalog.conclusion_list())])
        if "missing" in self.fields:
            self.fields["missing"].widget = forms.Select(choices=lambda: [("", "—"), *(
                (name, name) for name in self.catalog.node_names())])
        if "field" in self.fields:
            self.fields["field"].widget.attrs["list"] = "luna-field-names"
        if "where" in self.fields:
            self.fields["where"].widget = LinesTextarea(attrs={"rows": 2, "spellcheck": "false", "class": "code"})
        for name, hint in PLACEHOLDERS.items():
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("placeholder", hint)

    @cached_property
    def template_ids(self) -> list[int]:
        """The chosen template (or all of them); every predicate leads with these ids to stay on an index."""
        return resolve_template_ids(str(self.data.get("template") or ""))

    @cached_property
    def catalog(self) -> Catalog:
        return catalog(self.template_ids)

    def clean_field(self) -> str:
        name = (self.cleaned_data.get("field") or "").strip()
        if name and name not in self.catalog.fields:
            raise _invalid(f"Unknown field {name!r}; {_known('fields', self.catalog.field_names())}.")
        return name

    def clean_conclusion(self) -> str:
        text = (self.cleaned_data.get("conclusion") or "").strip()
        if not text:
            return ""
        code = self.catalog.resolve_conclusion(text)
        if code is None:
            labels = [f"{item.label} ({item.name})" for item in self.catalog.conclusion_list()]
            raise _invalid(f"Unknown conclusion {text!r}; {_known('conclusions', labels)}.")
        return code

    def clean_missing(self) -> str:
        node = (self.cleaned_data.get("missing") or "").strip()
        if node and node not in self.catalog.nodes:
            raise _invalid(f"Unknown node {node!r}; {_known('nodes', self.catalog.node_names())}.")
        return node

    def clean_where(self) -> list[conditions.FieldCondition]:
        try:
            parsed = conditions.parse(self.cleaned_data.get("where") or "")
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        unknown = sorted({item.name for item in parsed} - self.catalog.fields) if parsed else []
        if unknown:
            raise _invalid(f"Unknown field {', '.join(map(repr, unknown))}; {_known('fields', self.catalog.field_names())}.")
        return parsed

    def clean(self):
        data = super().clean()
        if bool(data.get("field")) != bool(data.get("value")) and "field" not in self.errors:
            raise ValidationError("Give both a field name and a value to search by field.")
        return data


class DeadLetterFilterForm(forms.Form):
    """Base form of DeadLetterFilterSet (kept for symmetry and future cross-field checks)."""


class SavedSearchForm(forms.ModelForm):
    """Name + the search page's query string."""

    class Meta:
        model = SavedSearch
        fields = ["name", "query"]
        widgets = {"query": forms.HiddenInput, "name": forms.TextInput(attrs={"placeholder": "Name this search"})}

    def clean_query(self) -> str:
        return (self.cleaned_data.get("query") or "").lstrip("?")
