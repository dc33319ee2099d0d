"""Shared fixtures: the demo template, a handful of stored sessions shaped like the job writes them, users per role."""
import json
from typing import Any

import pytest
from django.test import Client

from sessions.models import AnalysisTemplate, DeadLetter, Session
from sessions.services.templates import save_template_version
from tests.factories import DAY, DEMO_PATH, HOUR, MINUTE, T0, SessionSpec, logged_in, make_session, make_user, payment_events


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Tests create many users; the production hasher is deliberately slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_document() -> dict[str, Any]:
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def demo_template(db, demo_document) -> AnalysisTemplate:
    return save_template_version(demo_document).template


@pytest.fixture
def demo_sessions(demo_template) -> dict[str, Session]:
    """Five sessions covering the demo conclusions, a duplicate delivery, missing nodes and a split pair."""
    specs = {
        "delivered": SessionSpec(
            "ORD-1001", T0, payment_events("ORD-1001", "TX-9001"),
            {"order_id": "ORD-1001", "trans_id": "TX-9001", "channel": "alipay", "region": "eu", "amount_value": 6, "deliveries": 1},
            ["delivered"], revision=3,
        ),
        "duplicate": SessionSpec(
            "ORD-1002", T0 + HOUR, payment_events("ORD-1002", "TX-9002", deliveries=2),
            {"order_id": "ORD-1002", "trans_id": "TX-9002", "channel": "wechat", "region": "cn", "amount_value": 30, "deliveries": 2},
            ["duplicate_delivery"], revision=4,
        ),
        "lost": SessionSpec(
            "ORD-1003", T0 + 2 * HOUR, payment_events("ORD-1003", "TX-9003", callback=False, deliveries=0),
            {"order_id": "ORD-1003", "trans_id": "TX-9003", "channel": "alipay", "region": "eu", "amount_value": 6.5},
            ["lost_order", "callback_missing"], status="closed", completeness=0.5, revision=2,
        ),
        "abandoned": SessionSpec(
            "ORD-1004", T0 + DAY, payment_events("ORD-1004", "", verified=False),
            {"order_id": "ORD-1004", "channel": "card", "region": "us", "amount_value": 128},
            ["abandoned"], status="closed", completeness=0.25,
        ),
        "split_a": SessionSpec(
            "ORD-1005", T0 + 2 * DAY, payment_events("ORD-1005", "", verified=False),
            {"order_id": "ORD-1005", "channel": "card"}, ["abandoned"], status="closed", completeness=0.25,
            extra={"split": True, "next_id": 1006},
        ),
        "split_b": SessionSpec(
            "ORD-1005", T0 + 2 * DAY + 30 * MINUTE, payment_events("ORD-1005", "", verified=False),
            {"order_id": "ORD-1005", "channel": "card"}, ["abandoned"], status="open", completeness=0.25,
            extra={"split": True, "prev_id": 1005},
        ),
    }
    return {name: make_session(demo_template, spec, 1001 + i) for i, (name, spec) in enumerate(specs.items())}


@pytest.fixture
def dead_letters(demo_template) -> list[DeadLetter]:
    rows = [
        ("billing", "bad JSON: Expecting value", "{not json", "mobile-pay/billing/part-0.jsonl:3"),
        ("billing", "bad JSON: Expecting value", "{also bad", "mobile-pay/billing/part-0.jsonl:9"),
        ("client", "no session key (order_id)", '{"event": "pay_page_open"}', "mobile-pay/client/part-0.jsonl:1"),
        ("channel", "unparseable time: 'yesterday'", '{"notify_time": "yesterday"}', "mobile-pay/channel/part-1.jsonl:4"),
    ]
    return [
        DeadLetter.objects.create(template=demo_template, source=s, reason=r, raw=raw, origin=o, line_uid=f"uid{i}", created_ms=T0 + i)
        for i, (s, r, raw, o) in enumerate(rows)
    ]


@pytest.fixture
def sink_writer():
    """The job's own sink writer on the test database, for template 7 (tests/test_sink*.py)."""
    from jobs.sessionize.sink.dialects import connect
    from jobs.sessionize.sink.writer import SessionWriter
    from sessions.services.sink_database import database_url_for_jobs

    dialect, factory = connect(database_url_for_jobs())
    writer = SessionWriter(7, dialect, factory)
    yield writer
    writer.close()


@pytest.fixture
def users(db) -> dict[str, Any]:
    return {role: make_user(role, role) for role in ("viewer", "editor", "admin")} | {"norole": make_user("norole", None)}


@pytest.fixture
def viewer_client(users) -> Client:
    return logged_in(users["viewer"])


@pytest.fixture
def editor_client(users) -> Client:
    return logged_in(users["editor"])


@pytest.fixture
def admin_client_luna(users) -> Client:
    return logged_in(users["admin"])


@pytest.fixture
def norole_client(users) -> Client:
    return logged_in(users["norole"])


# ---- real services for job operations (test_job_control.py, test_browser_jobs.py) ------------------------
@pytest.fixture(scope="session")
def flink_layout(tmp_path_factory):
    """One standalone Flink cluster for the session, on free ports under its own var dir; always stopped."""
    from operations.services import flink_cluster
    from tests import flink_services

    layout = flink_cluster.ClusterLayout(tmp_path_factory.mktemp("luna-var") / "flink", flink_services.free_port(),
                                         flink_services.free_port(), slots=4)
    try:
        flink_cluster.start(layout)
        yield layout
    finally:
        flink_cluster.stop(layout)


@pytest.fixture(scope="session")
def celery_services(flink_layout, django_db_setup, tmp_path_factory):
    """A real Celery worker (Redis broker, its own queue) whose tasks use the test database and the test cluster."""
    from luna.celery import app
    from sessions.services.sink_database import database_url_for_jobs
    from tests import flink_services

    queue = flink_services.new_queue()
    env = flink_services.celery_env(flink_layout, database_url_for_jobs(), tmp_path_factory.mktemp("luna-data"), queue)
    services = flink_services.CeleryServices(env, tmp_path_factory.mktemp("celery-logs"), queue)
    previous = flink_services.point_app_at(app, env["CELERY_BROKER_URL"], queue)
    try:
        services.start("worker", "worker", "--loglevel", "INFO", "--concurrency", "2", "--hostname", f"{queue}@%h",
                       "--without-gossip", "--without-mingle", ready="ready.")
        yield services
    finally:
        for process in list(services.processes):
            services.stop(process)
        flink_services.point_app_at(app, *previous)


@pytest.fixture
def job_services(celery_services, flink_layout, transactional_db, settings):
    """Per test: an empty data dir, this process's settings pointing at the test cluster, no job left behind."""
    import shutil
    from pathlib import Path

    from tests import flink_services

    data_dir = Path(celery_services.env["LUNA_DATA_DIR"])
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir()
    settings.LUNA_DATA_DIR = str(data_dir)
    settings.LUNA_FLINK_TARGET = flink_layout.rest_url
    yield celery_services
    flink_services.cancel_all_jobs(flink_layout)


# ---- browser tests (Playwright driving Debian's Chromium) ------------------------------------------------------
@pytest.fixture
def page():
    from tests.browser import chromium_page

    yield from chromium_page()
