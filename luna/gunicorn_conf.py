"""gunicorn settings of the console (`./luna.sh up`, bench/search_http.py): `gunicorn -c python:luna.gunicorn_conf`.

One request per process, cores + 1 processes: a search is CPU in Python and the database shares the cores, so
threads only queue behind the GIL (docs/BENCHMARKS.md: 3 sync workers had the lowest p95/p99 on 2 cores).
LUNA_WEB_WORKERS / LUNA_WEB_WORKER_CLASS override; command-line flags override this file.
"""
import os

workers = int(os.environ.get("LUNA_WEB_WORKERS") or (os.cpu_count() or 1) + 1)
worker_class = os.environ.get("LUNA_WEB_WORKER_CLASS") or "sync"
timeout = 60


def post_worker_init(worker) -> None:
    """Each worker, once the app is loaded: import every view and freeze the start-up objects out of the cyclic GC,
    so no request pays a lazy import or a ~60 ms full collection over Django's own objects."""
    from luna.warmup import warm_up_and_freeze

    warm_up_and_freeze()
