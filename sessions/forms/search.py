"""Form pieces behind the search FilterSets: UTC datetimes, durations, the field/value pair."""
import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

from ..models import AnalysisTemplate
from ..services.search import parse_min_duration_ms


def template_choices() -> list[tuple[str, str]]:
    """Evaluated lazily by the widget, so the API (which never renders it) pays no query."""
    return [("", "All templates"), *((name, name) for name in AnalysisTemplate.objects.values_list("name", flat=True))]


PLACEHOLDERS = {
    "key": "exact key", "field": "e.g. channel", "value": "e.g. alipay or 6", "conclusion": "e.g. lost_order",
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


class SessionSearchForm(forms.Form):
    """Base form of SessionFilterSet; django-filter adds the fields, this checks they fit together."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "template" in self.fields:
            cache: list[tuple[str, str]] = []
            self.fields["template"].widget = forms.Select(choices=lambda: cache or cache.extend(template_choices()) or cache)
        for name, hint in PLACEHOLDERS.items():
            if name in self.fields:
                self.fields[name].widget.attrs.setdefault("placeholder", hint)

    def clean(self):
        data = super().clean()
        if bool(data.get("field")) != bool(data.get("value")):
            raise ValidationError("Give both a field name and a value to search by field.")
        return data


class DeadLetterFilterForm(forms.Form):
    """Base form of DeadLetterFilterSet (kept for symmetry and future cross-field checks)."""
