"""The web server's settings: worker count from the cores, and each worker's warm-up freezing start-up objects."""
import gc
import importlib
import os
import sys

import pytest

from luna import gunicorn_conf


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_workers_are_the_cores_plus_one_unless_configured(monkeypatch):
    monkeypatch.delenv("LUNA_WEB_WORKERS", raising=False)
    assert importlib.reload(gunicorn_conf).workers == (os.cpu_count() or 1) + 1
    monkeypatch.setenv("LUNA_WEB_WORKERS", "5")
    monkeypatch.setenv("LUNA_WEB_WORKER_CLASS", "gthread")
    reloaded = importlib.reload(gunicorn_conf)
    assert (reloaded.workers, reloaded.worker_class) == (5, "gthread")
    monkeypatch.delenv("LUNA_WEB_WORKERS")
    monkeypatch.delenv("LUNA_WEB_WORKER_CLASS")
    importlib.reload(gunicorn_conf)


def test_a_worker_imports_every_view_and_freezes_what_start_up_left(unfrozen):
    gunicorn_conf.post_worker_init(worker=None)
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # Django, DRF and the apps' modules: out of every later full collection
    assert "analytics.views" in sys.modules and "studio.views" in sys.modules
    assert gc.collect() >= 0 and gc.get_freeze_count() == frozen  # a collection leaves the frozen objects alone
