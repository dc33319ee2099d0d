"""Import through review: a draft for editors, activation only explicit (single admin or automation), audited."""
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from sessions.models import TemplateVersion
from studio.models import AuditEntry, Draft, Proposal
from studio.services import imports

pytestmark = pytest.mark.django_db


def test_an_editors_import_is_a_draft_at_its_review_step(demo_template, demo_document, users):
    result = imports.import_document(dict(demo_document, description="new"), users["editor"])
    assert result.outcome == "draft" and result.wizard_url == f"/studio/drafts/{result.draft.pk}/?step=review"
    assert Draft.objects.get().owner == users["editor"] and TemplateVersion.objects.count() == 1
    assert AuditEntry.objects.get().detail == f"imported as draft {result.draft.pk}"


def test_the_current_document_changes_nothing(demo_template, demo_document, users):
    result = imports.import_document(json.loads(json.dumps(demo_document)), users["editor"])
    assert (result.outcome, result.version.number) == ("unchanged", 1) and not Draft.objects.exists()


def test_activation_needs_an_admin_and_the_single_admin_setting(demo_template, demo_document, users, settings):
    changed = dict(demo_document, description="new")
    with pytest.raises(PermissionDenied, match="admin role"):
        imports.import_document(changed, users["editor"], activate=True)
    with pytest.raises(PermissionDenied, match="maker/checker"):
        imports.import_document(changed, users["admin"], activate=True)
    assert not Draft.objects.exists() and not Proposal.objects.exists()
    settings.LUNA_STUDIO_SINGLE_ADMIN = True
    result = imports.import_document(changed, users["admin"], activate=True)
    assert (result.outcome, result.version.number, result.job) == ("activated", 2, "no running job")
    proposal = Proposal.objects.get()
    assert (proposal.status, proposal.author, proposal.reviewer) == ("activated", users["admin"], users["admin"])
    assert "single-admin setting" in AuditEntry.objects.get(action="approved").detail


def test_a_new_template_is_a_draft_too(demo_document, users):
    result = imports.import_document(dict(demo_document, name="brand-new"), users["editor"])
    assert result.outcome == "draft" and result.version is None and not TemplateVersion.objects.exists()


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=20))
def test_any_bad_document_is_refused_with_reasons_and_nothing_is_stored(users, document):
    with pytest.raises(ValidationError) as refused:
        imports.import_document(document, users["editor"])
    assert refused.value.messages and not Draft.objects.exists()
