"""The studio in a real browser: the worked example of SPEC §1 built from the demo logs through the wizard,
fields picked by clicking sample values, the tree previewed, rules checked as typed, dry run, proposed by an
editor, approved and activated by an admin."""
import pytest

from sessions.models import AnalysisTemplate
from tests.factories import PASSWORD
from tests.studio_support import demo_logs  # noqa: F401 — fixture
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("#next")


def _add_rows(page, count: int) -> None:
    for _ in range(count - page.locator(".formset-rows fieldset.row").count()):
        page.click("#add-row")


def _build_sources(page, document) -> None:
    _add_rows(page, len(document["sources"]))
    for i, source in enumerate(document["sources"]):
        row = page.locator(".formset-rows fieldset.row").nth(i)
        page.fill(f"[name='sources-{i}-name']", source["name"])
        page.fill(f"[name='sources-{i}-location']", source["location"])
        row.locator(".load-samples").click()
        row.locator(".json-value").first.wait_for()
        row.locator(".pick-time").check()  # the next click sets the time field
        row.locator(f".json-value[data-path='{source['time']['path']}']").first.click()
        use = row.locator(".use-format")
        use.wait_for()
        assert source["time"]["format"] in use.inner_text(), "the format is suggested from the samples"
        use.click()
        row.locator(".time-summary:has-text('sample times parse')").wait_for()
        if source["time"].get("tz"):
            page.fill(f"[name='sources-{i}-tz']", source["time"]["tz"])
        for alias, path in source["fields"].items():
            row.locator(".next-alias").fill(alias)
            row.locator(f".json-value[data-path='{path}']").first.click()
        assert page.input_value(f"[name='sources-{i}-field_paths']").splitlines()[-1].strip() == f"{alias} = {path}"


def _build_tree(page, document) -> None:
    _add_rows(page, len(document["nodes"]))
    for i, node in enumerate(document["nodes"]):
        page.fill(f"[name='tree-{i}-name']", node["name"])
        page.fill(f"[name='tree-{i}-label']", node.get("label", ""))
        page.select_option(f"[name='tree-{i}-source']", node["source"])
        page.fill(f"[name='tree-{i}-parent']", node.get("parent") or "")
        if node.get("join"):
            page.fill(f"[name='tree-{i}-join_on']", node["join"]["on"])
            page.fill(f"[name='tree-{i}-lower']", node["join"]["lower"])
            page.fill(f"[name='tree-{i}-upper']", node["join"]["upper"])
        if node.get("many"):
            page.check(f"[name='tree-{i}-many']")
        if node.get("when"):
            page.fill(f"[name='tree-{i}-when']", node["when"].replace("type", "typ", 1) if i == 0 else node["when"])
    first = page.locator(".formset-rows fieldset.row").first
    error = first.locator(".check-error")
    error.wait_for()
    assert "unknown name 'typ' at column 1" in error.inner_text()
    page.fill("[name='tree-0-when']", document["nodes"][0]["when"])
    first.locator(".check-values").wait_for()
    page.locator("#live-tree #node-delivery").wait_for()  # drawn live as on the session page
    assert page.locator("#live-tree #node-callback .badge.supp").count() == 1


def _build_rules(page, step: str, items: list[dict], keys: tuple[str, ...]) -> None:
    _add_rows(page, len(items))
    for i, item in enumerate(items):
        for key in keys:
            selector = f"[name='{step}-{i}-{key}']"
            if page.locator(f"select{selector}").count():
                page.select_option(selector, item[key])
            else:
                page.fill(selector, item.get(key, ""))
    page.locator(".formset-rows fieldset.row").last.locator(".check-values").wait_for()


def test_an_editor_builds_the_worked_example_in_the_wizard(page, live_server, users, demo_logs, demo_document, tmp_path):
    login(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server.url}/studio/")
    page.fill("#new-draft [name=name]", demo_document["name"])
    with page.expect_navigation():
        page.click("#new-draft button[type=submit]")

    _build_sources(page, demo_document)
    page.screenshot(path=str(tmp_path / "sources.png"), full_page=True)
    _submit(page)
    assert "Behaviour tree" in page.inner_text("h1"), page.inner_text("main")[:2000]
    _build_tree(page, demo_document)
    page.screenshot(path=str(tmp_path / "tree.png"), full_page=True)
    _submit(page)

    session = demo_document["session"]
    page.select_option("[name='session-key']", session["key"])
    for name in ("gap", "timeout", "allowed_lateness", "out_of_orderness"):
        page.fill(f"[name='session-{name}']", session[name])
    for node in session["complete_when"]:
        page.check(f"[name='session-complete_when'][value='{node}']")
    _submit(page)

    _build_rules(page, "fields", demo_document["fields"], ("name", "expr", "type"))
    assert "✓ compiles" in page.locator(".formset-rows fieldset.row").last.inner_text()
    _submit(page)
    _build_rules(page, "conclusions", demo_document["conclusions"], ("name", "label", "severity", "when"))
    _submit(page)

    page.fill("[name='dimensions-description']", demo_document["description"])
    for dimension in demo_document["dimensions"]:
        page.check(f"[name='dimensions-dimensions'][value='{dimension}']")
    _submit(page)

    assert "Review" in page.inner_text("h1")
    page.locator("#dry-run-conclusions").wait_for(timeout=30_000)
    conclusions = page.inner_text("#dry-run-conclusions")
    assert "delivered" in conclusions and "abandoned" in conclusions
    assert page.locator(".dry-run-session").count() >= 40
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert (tmp_path / "review.png").stat().st_size > 10_000
    _submit(page)  # the editor proposes

    assert "/studio/proposals/" in page.url and "Proposed" in page.inner_text("#proposal-status")
    assert page.locator("#approve").count() == 0, "an editor cannot approve"
    proposal_url = page.url
    page.context.clear_cookies()
    login(page, live_server, "admin", PASSWORD)
    page.goto(proposal_url)
    with page.expect_navigation():
        page.click("#approve")
    with page.expect_navigation():
        page.click("#activate")
    assert "Activated as version 1: no running job" in page.inner_text(".messages")
    assert AnalysisTemplate.objects.get(name="mobile-pay").versions.get().document == demo_document
    page.goto(f"{live_server.url}/studio/audit/")
    assert page.locator("#audit tbody tr").count() == 3


def test_a_backtest_from_the_review_step_lists_the_changed_sessions_side_by_side(page, live_server, users, demo_logs,
                                                                                  demo_template, demo_document, monkeypatch):
    import copy
    import threading

    from studio import tasks
    from studio.models import Backtest, Draft
    from studio.services import backtest

    monkeypatch.setattr(tasks.run_backtest, "delay", lambda pk: threading.Thread(target=backtest.run, args=(pk,)).start())
    changed = copy.deepcopy(demo_document)
    next(c for c in changed["conclusions"] if c["name"] == "delivered")["when"] = "has(delivery) && delivery.count == 1"
    draft = Draft.objects.create(name="mobile-pay", document=changed, step="review")
    login(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server.url}/studio/drafts/{draft.pk}/")
    assert '"when": "has(delivery) && delivery.count == 1"' in page.inner_text("#diff")
    page.fill("input[name=start]", "2000-01-01T00:00")
    page.fill("input[name=end]", "2200-01-01T00:00")
    with page.expect_navigation():
        page.click("#start-backtest")
    page.locator("#backtest-changed").wait_for(timeout=30_000)  # polled until the task ends, then shown
    assert page.get_attribute("#backtest-status", "data-status") == "done"
    rows = page.locator("#backtest-changed tbody tr")
    assert rows.count() == len(Backtest.objects.get().result["changed"]) > 0
    with page.expect_navigation():
        rows.first.locator("text=side by side").click()
    assert page.locator(".card.side").count() == 2 and "Paid and delivered" in page.inner_text(".card.side >> nth=1")
