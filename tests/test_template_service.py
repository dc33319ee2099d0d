"""Template service and its CLI: validation with every error, idempotent versions, exact round trip."""
import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from sessions.models import AnalysisTemplate, TemplateVersion
from sessions.services.templates import export_template, save_template, save_template_version, template_summaries
from tests.factories import DEMO_PATH, make_user

pytestmark = pytest.mark.django_db


def broken(document: dict) -> dict:
    """Three independent mistakes, to check that all are reported at once."""
    doc = copy.deepcopy(document)
    doc["nodes"][1]["parent"] = "nowhere"
    doc["conclusions"][0]["when"] = "has(voucher) &&"
    doc["session"]["complete_when"].append("ghost")
    return doc


def test_first_save_creates_template_and_version_1(demo_document):
    user = make_user("ed", "editor")
    version = save_template_version(demo_document, user)
    assert (version.template.name, version.number, version.created_by) == ("mobile-pay", 1, user)
    assert version.template.description == demo_document["description"]
    assert version.document == demo_document


def test_saving_the_same_document_again_returns_the_current_version(demo_document):
    first = save_template_version(demo_document)
    again = save_template(copy.deepcopy(demo_document))
    assert again.version.pk == first.pk and not again.created
    assert TemplateVersion.objects.count() == 1


def test_a_changed_document_becomes_the_next_version(demo_document):
    save_template_version(demo_document)
    changed = copy.deepcopy(demo_document)
    changed["session"]["gap"] = "30m"
    version = save_template_version(changed)
    assert version.number == 2
    assert export_template("mobile-pay") == changed
    assert export_template("mobile-pay", version=1) == demo_document


def test_an_invalid_document_reports_every_error_and_saves_nothing(demo_document):
    with pytest.raises(ValidationError) as caught:
        save_template_version(broken(demo_document))
    messages = caught.value.messages
    assert any("nodes.pay_page.parent" in m and "nowhere" in m for m in messages)
    assert any("conclusions.abandoned.when" in m for m in messages)
    assert any("complete_when" in m and "ghost" in m for m in messages)
    assert not AnalysisTemplate.objects.exists()


@pytest.mark.parametrize("document", [[], "mobile-pay", None, {"name": "x"}])
def test_non_documents_are_rejected(document):
    with pytest.raises(ValidationError):
        save_template_version(document)


def test_export_of_unknown_template_or_version_raises(demo_template):
    with pytest.raises(TemplateVersion.DoesNotExist):
        export_template("nope")
    with pytest.raises(TemplateVersion.DoesNotExist):
        export_template("mobile-pay", version=7)


def test_summaries_count_versions_and_sessions(demo_sessions, demo_document):
    changed = dict(demo_document, description="v2")
    save_template_version(changed)
    row = template_summaries().get(name="mobile-pay")
    assert (row.current_number, row.version_count, row.session_count) == (2, 2, 6)


def test_import_command_prints_name_and_version(capsys):
    call_command("import_template", str(DEMO_PATH), "--activate")
    assert capsys.readouterr().out.strip() == "mobile-pay v1"
    call_command("import_template", str(DEMO_PATH), "--activate")
    assert capsys.readouterr().out.strip() == "mobile-pay v1 (unchanged)"
    assert TemplateVersion.objects.count() == 1


def test_import_command_lists_errors_and_fails(tmp_path, demo_document, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken(demo_document)))
    with pytest.raises(CommandError, match="3 error"):
        call_command("import_template", str(path))
    err = capsys.readouterr().err
    assert "nodes.pay_page.parent" in err and "conclusions.abandoned.when" in err and "ghost" in err
    assert not TemplateVersion.objects.exists()


def test_import_command_rejects_bad_json_and_missing_files(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": ')
    with pytest.raises(CommandError, match="Invalid JSON at line 1"):
        call_command("import_template", str(path))
    with pytest.raises(CommandError):
        call_command("import_template", str(tmp_path / "absent.json"))


def test_export_then_import_round_trip(tmp_path, demo_document):
    call_command("import_template", str(DEMO_PATH), "--activate")
    out = tmp_path / "exported.json"
    call_command("export_template", "mobile-pay", "-o", str(out))
    assert json.loads(out.read_text()) == demo_document
    call_command("import_template", str(out), "--activate")
    assert TemplateVersion.objects.count() == 1


def test_export_command_to_stdout_and_by_version(demo_document, capsys):
    save_template_version(demo_document)
    save_template_version(dict(demo_document, description="second"))
    call_command("export_template", "mobile-pay", "--version", "1")
    assert json.loads(capsys.readouterr().out) == demo_document
    call_command("export_template", "mobile-pay")
    assert json.loads(capsys.readouterr().out)["description"] == "second"
    with pytest.raises(CommandError, match="no template"):
        call_command("export_template", "nope")


def test_import_command_without_activate_makes_a_draft_for_review(demo_document, capsys):
    from studio.models import AuditEntry, Draft

    make_user("ann", "editor")
    call_command("import_template", str(DEMO_PATH), "--owner", "ann")
    draft = Draft.objects.get()
    assert capsys.readouterr().out.startswith(f"mobile-pay: draft {draft.pk} (/studio/drafts/{draft.pk}/?step=review)")
    assert draft.document == demo_document and draft.owner.username == "ann" and draft.step == "review"
    assert not TemplateVersion.objects.exists(), "nothing is active before an admin activates it"
    assert AuditEntry.objects.get().action == "imported"
    call_command("import_template", str(DEMO_PATH), "--activate")
    audit = AuditEntry.objects.get(action="activated")
    assert audit.actor is None and audit.detail.startswith("import_template --activate (automation): no running job.")
