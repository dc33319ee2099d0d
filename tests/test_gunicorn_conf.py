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
    from_start_up = [object()]  # a container alive before the hook, like Django's own objects
    gunicorn_conf.post_worker_init(worker=None)
    assert gc.get_freeze_count() > 10_000  # Django, DRF and the apps' modules
    assert "analytics.views" in sys.modules and "studio.views" in sys.modules
    assert not any(tracked is from_start_up for tracked in gc.get_objects()), "out of every later collection's walk"
