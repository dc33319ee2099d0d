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
    a = forms.IntegerField()
    b = forms.IntegerField()
