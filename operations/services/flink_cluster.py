"""Standalone Flink cluster from the installed `apache-flink` package's own scripts.

FLINK_HOME is the `pyflink` package; configuration, logs and pids live under var/flink so the installed
package is never modified. Production points LUNA_FLINK_TARGET at an existing cluster's REST URL instead.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parents[2]


def flink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).resolve().parent


@dataclass(frozen=True)
class ClusterLayout:
    """Where a locally managed cluster keeps its files, and its ports."""

    root: Path
    rest_port: int = 8081
    rpc_port: int = 6123
    slots: int = 4
    taskmanagers: int = 1  # thread mode embeds one Python interpreter (one GIL) per TaskManager JVM

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def lib_dir(self) -> Path:
        return self.root / "lib"

    @property
    def pid_dir(self) -> Path:
        return self.root / "pid"

    @property
    def rest_url(self) -> str:
        return f"http://localhost:{self.rest_port}"


def default_layout() -> ClusterLayout:
    root = Path(settings.VAR_DIR) / "flink"
    return ClusterLayout(root, settings.LUNA_FLINK_REST_PORT, settings.LUNA_FLINK_RPC_PORT, settings.LUNA_FLINK_SLOTS,
                         settings.LUNA_FLINK_TASKMANAGERS)


def write_config(layout: ClusterLayout) -> Path:
    """Copy the package's config.yaml and set ports, slots, Python and state directories."""
    home = flink_home()
    layout.conf_dir.mkdir(parents=True, exist_ok=True)
    for name in ("log4j.properties", "log4j-cli.properties", "log4j-console.properties", "logback.xml"):
        shutil.copy(home / "conf" / name, layout.conf_dir / name)
    conf = yaml.safe_load((home / "conf" / "config.yaml").read_text())
    conf["jobmanager"]["rpc"]["port"] = layout.rpc_port
    conf["taskmanager"]["numberOfTaskSlots"] = layout.slots
    conf["rest"]["port"] = layout.rest_port
    conf.setdefault("python", {}).update({"executable": sys.executable, "client": {"executable": sys.executable}})
    conf["python"]["execution-mode"] = "thread"
    conf["python"]["pythonpath"] = os.pathsep.join([str(REPO_ROOT), *sys.path[1:]])
    conf.setdefault("execution", {})["checkpointing"] = {
        "dir": f"file://{layout.root / 'checkpoints'}",
        "savepoint-dir": f"file://{layout.root / 'savepoints'}",
    }
    # flink-python on the cluster's own classpath and pemja loaded parent-first: pemja's native library can be
    # loaded once per JVM, so a second thread-mode job on the same TaskManager (a restart from a savepoint)
    # fails with "NoSuchFieldException: loadedLibraryNames" when each job's classloader brings its own copy.
    conf.setdefault("classloader", {})["parent-first-patterns"] = {"additional": ["pemja."]}
    conf.setdefault("web", {})["upload"] = {"dir": str(layout.root / "jars")}
    # A killed TaskManager is noticed after two failed heartbeats: 3 s apart instead of 10 s (measured ≈12 s → ≈6 s).
    conf.setdefault("heartbeat", {})["interval"] = 3000
    # The REST metric store waits `web.timeout` (default 10 min) for a dead TaskManager's metrics before it
    # fetches again: records, restarts and checkpoint metrics froze for minutes after a TaskManager was lost.
    conf["web"]["timeout"] = 30000
    (layout.conf_dir / "config.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
    link_lib_dir(layout)
    (layout.conf_dir / "masters").write_text(f"localhost:{layout.rest_port}\n")
    (layout.conf_dir / "workers").write_text("localhost\n")
    return layout.conf_dir / "config.yaml"


def link_lib_dir(layout: ClusterLayout) -> Path:
    """FLINK_LIB_DIR under var/: the package's lib/ jars plus opt/flink-python (symlinks; the package is untouched)."""
    home = flink_home()
    layout.lib_dir.mkdir(parents=True, exist_ok=True)
    for jar in [*sorted((home / "lib").glob("*.jar")), *sorted((home / "opt").glob("flink-python-*.jar"))]:
        link = layout.lib_dir / jar.name
        if not link.exists():
            link.symlink_to(jar)
    return layout.lib_dir


def script_env(layout: ClusterLayout) -> dict[str, str]:
    """Environment for bin/*.sh: our conf/log/pid dirs, the venv first on PATH (pemja), the repo importable."""
    env = dict(os.environ)
    env.update(
        FLINK_HOME=str(flink_home()),
        FLINK_CONF_DIR=str(layout.conf_dir),
        FLINK_LOG_DIR=str(layout.root / "log"),
        FLINK_PID_DIR=str(layout.pid_dir),
        FLINK_LIB_DIR=str(layout.lib_dir),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONPATH=os.pathsep.join(p for p in [str(REPO_ROOT), env.get("PYTHONPATH", "")] if p),
    )
    for name in ("log", "pid"):
        (layout.root / name).mkdir(parents=True, exist_ok=True)
    return env


def rest_get(rest_url: str, path: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(f"{rest_url.rstrip('/')}{path}", timeout=timeout) as response:
        return json.loads(response.read())


def overview(rest_url: str) -> dict | None:
    """The cluster's /overview, or None when nothing answers."""
    try:
        return rest_get(rest_url, "/overview", timeout=2.0)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def start(layout: ClusterLayout | None = None, wait_s: float = 90.0) -> dict:
    """Start the JobManager and the layout's TaskManagers (only the missing TaskManagers when the JobManager
    answers) and wait until they have registered their slots."""
    layout = layout or default_layout()
    current = overview(layout.rest_url)
    if current and current.get("taskmanagers", 0) >= layout.taskmanagers:
        return current
    write_config(layout)
    if current is None:
        subprocess.run([str(flink_home() / "bin" / "start-cluster.sh")], env=script_env(layout), check=True, capture_output=True)
    for _ in range(layout.taskmanagers - len(daemon_pids(layout))):
        start_taskmanager(layout)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        current = overview(layout.rest_url)
        if current and current.get("taskmanagers", 0) >= layout.taskmanagers and current.get("slots-total", 0) > 0:
            return current
        time.sleep(1.0)
    raise RuntimeError(f"Flink cluster did not come up within {wait_s:.0f}s; see {layout.root / 'log'}")


def daemon_pids(layout: ClusterLayout, daemon: str = "taskexecutor") -> list[int]:
    """Live processes of this cluster ("taskexecutor" or "standalonesession") from flink-daemon.sh's pid files."""
    alive = []
    for pid_file in layout.pid_dir.glob(f"*-{daemon}.pid"):
        for line in pid_file.read_text().split():
            if line.isdigit() and _alive(int(line)):
                alive.append(int(line))
    return alive


def start_taskmanager(layout: ClusterLayout) -> None:
    """One more TaskManager for this cluster (the monitor replaces a lost one)."""
    subprocess.run([str(flink_home() / "bin" / "taskmanager.sh"), "start"], env=script_env(layout), check=True, capture_output=True)


def _alive(pid: int) -> bool:
    """True for a running process; a zombie (killed, not yet reaped: common in containers) is dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop(layout: ClusterLayout | None = None, grace_s: float = 10.0) -> None:
    """stop-cluster.sh, then any daemon of this cluster still alive (a TaskManager the monitor added)."""
    layout = layout or default_layout()
    if not layout.conf_dir.exists():
        return
    subprocess.run([str(flink_home() / "bin" / "stop-cluster.sh")], env=script_env(layout), check=False, capture_output=True)
    leftovers = daemon_pids(layout, "taskexecutor") + daemon_pids(layout, "standalonesession")
    for pid in leftovers:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while leftovers and time.monotonic() < deadline:
        leftovers = [pid for pid in leftovers if _alive(pid)]
        time.sleep(0.2)
    for pid in leftovers:
        os.kill(pid, signal.SIGKILL)
