"""Real services for the job-operations tests: a standalone Flink cluster, Redis, a Celery worker and beat.

The cluster runs on free ports under its own var dir, and the worker consumes a queue of its own, so several
test runs (and a developer's `./luna.sh up`) can share the machine and the Redis server without crossing.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from operations.services import flink_cluster
from operations.services.flink_rest import FlinkClient, FlinkError

VENV_BIN = Path(sys.executable).parent
# The broker the rest of the run uses (CELERY_BROKER_URL) when it is Redis: a worker on another Redis db than the
# test process's leftover connections never sees its tasks (they stay PENDING).
_BROKER = os.environ.get("CELERY_BROKER_URL", "")
REDIS_URL = os.environ.get("LUNA_TEST_REDIS_URL") or (_BROKER if _BROKER.startswith("redis://") else "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def ensure_redis() -> str:
    """The Redis server the tests use as Celery broker; started (daemonized) when nothing answers."""
    if subprocess.run(["redis-cli", "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is required for the Celery tests (apt-get install redis-server)")
        subprocess.run(["redis-server", "--daemonize", "yes"], check=True, capture_output=True)
        if not wait_for(lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode == 0, 15):
            raise RuntimeError("redis-server did not start")
    return REDIS_URL


def start_cluster(root: Path) -> flink_cluster.ClusterLayout:
    layout = flink_cluster.ClusterLayout(root / "flink", rest_port=free_port(), rpc_port=free_port(), slots=4)
    flink_cluster.start(layout)
    return layout


@dataclass
class CeleryServices:
    """Environment shared by the worker and beat subprocesses, and their handles."""

    env: dict[str, str]
    log_dir: Path
    queue: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self, name: str, *args: str, ready: str = "", timeout: float = 60.0) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "w")
        process = subprocess.Popen([str(VENV_BIN / "celery"), "-A", "luna", *args], env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True, cwd=flink_cluster.REPO_ROOT)
        self.processes.append(process)
        if ready and not wait_for(lambda: ready in log_path.read_text(errors="replace") or process.poll() is not None, timeout):
            raise RuntimeError(f"celery {name} not ready:\n{self.log(name)}")
        if process.poll() is not None:
            raise RuntimeError(f"celery {name} exited:\n{self.log(name)}")
        return process

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-6000:]

    def stop(self, process: subprocess.Popen) -> None:
        """TERM the process group (the worker's pool children too), KILL what is left after a grace period."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process in self.processes:
            self.processes.remove(process)


def celery_env(layout: flink_cluster.ClusterLayout, database_url: str, data_dir: Path, queue: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="luna.settings", DATABASE_URL=database_url, CELERY_BROKER_URL=ensure_redis(),
        LUNA_CELERY_QUEUE=queue, LUNA_VAR_DIR=str(layout.root.parent), LUNA_DATA_DIR=str(data_dir),
        LUNA_FLINK_TARGET=layout.rest_url, LUNA_FLINK_REST_PORT=str(layout.rest_port),
        LUNA_FLINK_RPC_PORT=str(layout.rpc_port), LUNA_FLINK_SLOTS=str(layout.slots),
        LUNA_FLINK_CHECKPOINT_INTERVAL="2s", LUNA_JOB_MONITOR_INTERVAL="2", LUNA_JOB_RESTART_BACKOFF="1s",
        PATH=os.pathsep.join([str(VENV_BIN), env.get("PATH", "")]),
    )
    return env


def new_queue() -> str:
    return f"luna-test-{uuid.uuid4().hex[:10]}"


def cancel_all_jobs(layout: flink_cluster.ClusterLayout, timeout: float = 60.0) -> None:
    """Leave the shared cluster empty for the next test (a live job of the same name would be adopted)."""
    client = FlinkClient(layout.rest_url)
    live = [job.jid for job in client.jobs() if job.state not in ("FAILED", "CANCELED", "FINISHED")]
    for jid in live:
        try:
            client.cancel(jid)
        except FlinkError:
            pass  # finished meanwhile
    wait_for(lambda: all(job.state in ("FAILED", "CANCELED", "FINISHED") for job in client.jobs()), timeout)


def point_app_at(app, broker_url: str, queue: str, transport_options: dict | None = None) -> tuple[str, str, dict]:
    """Send this process's tasks (views, tests) to `broker_url`/`queue`; returns what to restore.

    The app reads Django settings under the CELERY_ namespace, so the keys carry the prefix. Celery caches the
    connection pool and the routing table on first use: both are dropped so the change holds.
    """
    previous = (app.conf.broker_url, app.conf.task_default_queue, dict(app.conf.broker_transport_options or {}))
    app.conf.update(CELERY_BROKER_URL=broker_url, CELERY_TASK_DEFAULT_QUEUE=queue,
                    CELERY_BROKER_TRANSPORT_OPTIONS=transport_options or {})
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.__dict__.pop("amqp", None)
    return previous
