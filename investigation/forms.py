"""Small forms behind the case actions (the API takes the same fields)."""
from django import forms

from .models import CaseStatus, VerdictKind


class AssignForm(forms.Form):
    assignee = forms.CharField(max_length=150, required=False, help_text="Username; empty: nobody.")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=CaseStatus.choices)


class CommentForm(forms.Form):
    text = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class VerdictForm(forms.Form):
    conclusion = forms.CharField(max_length=100)
    verdict = forms.ChoiceField(choices=VerdictKind.choices)


class PairForm(forms.Form):
    """Two session ids: `a` and `b`, or two ticked `s` boxes of the search results."""

    a = forms.IntegerField(required=False)
    b = forms.IntegerField(required=False)

    def __init__(self, data, *args, **kwargs):
        ticked = data.getlist("s") if hasattr(data, "getlist") else []
        if len(ticked) == 2 and not data.get("a"):
            data = {"a": ticked[0], "b": ticked[1]}
        super().__init__(data, *args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("a") is None or cleaned.get("b") is None:
            raise forms.ValidationError("Pick exactly two sessions to compare.")
        return cleaned
