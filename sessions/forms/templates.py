"""Upload (file or pasted JSON) of a template document; validation of the rules is the service's job."""
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..services import json_documents

MAX_UPLOAD_BYTES = 1_000_000


class TemplateUploadForm(forms.Form):
    """Parses the JSON; `document` in cleaned_data is the dict to hand to the template service."""

    file = forms.FileField(required=False, label="JSON file", help_text="A template document exported from Luna or written by hand.")
    document = forms.CharField(
        required=False,
        label="…or paste the document",
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "code"}),
    )
    activate = forms.BooleanField(
        required=False, label="Activate now (admin)",
        help_text="Skip the draft: propose, approve and activate in one step (needs LUNA_STUDIO_SINGLE_ADMIN; "
                  "otherwise another admin approves the draft's proposal).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload, pasted = data.get("file"), (data.get("document") or "").strip()
        if upload and pasted:
            raise ValidationError("Upload a file or paste a document, not both.")
        if not upload and not pasted:
            raise ValidationError("Upload a JSON file or paste a template document.")
        if upload:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 1000} kB.")
            pasted = upload.read()
        try:
            data["document"] = json_documents.loads(pasted)
        except json_documents.DocumentError as exc:
            raise ValidationError(str(exc)) from None
        return data
