"""Standalone Flink cluster from the installed `apache-flink` package's own scripts.

FLINK_HOME is the `pyflink` package; configuration, logs and pids live under var/flink so the installed
package is never modified. Production points LUNA_FLINK_TARGET at an existing cluster's REST URL instead.
"""
import json
import os
import shutil
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

    @property
    def conf_dir(self) -> Path:
        return self.root / "conf"

    @property
    def rest_url(self) -> str:
        return f"http://localhost:{self.rest_port}"


def default_layout() -> ClusterLayout:
    root = Path(settings.VAR_DIR) / "flink"
    return ClusterLayout(root, settings.LUNA_FLINK_REST_PORT, settings.LUNA_FLINK_RPC_PORT, settings.LUNA_FLINK_SLOTS)


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
    (layout.conf_dir / "config.yaml").write_text(yaml.safe_dump(conf, sort_keys=False))
    (layout.conf_dir / "masters").write_text(f"localhost:{layout.rest_port}\n")
    (layout.conf_dir / "workers").write_text("localhost\n")
    return layout.conf_dir / "config.yaml"


def script_env(layout: ClusterLayout) -> dict[str, str]:
    """Environment for bin/*.sh: our conf/log/pid dirs, the venv first on PATH (pemja), the repo importable."""
    env = dict(os.environ)
    env.update(
        FLINK_HOME=str(flink_home()),
        FLINK_CONF_DIR=str(layout.conf_dir),
        FLINK_LOG_DIR=str(layout.root / "log"),
        FLINK_PID_DIR=str(layout.root / "pid"),
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
    """Start JobManager + TaskManager and wait until a TaskManager has registered its slots."""
    layout = layout or default_layout()
    current = overview(layout.rest_url)
    if current and current.get("taskmanagers", 0) > 0:
        return current
    write_config(layout)
    subprocess.run([str(flink_home() / "bin" / "start-cluster.sh")], env=script_env(layout), check=True, capture_output=True)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        current = overview(layout.rest_url)
        if current and current.get("taskmanagers", 0) > 0 and current.get("slots-total", 0) > 0:
            return current
        time.sleep(1.0)
    raise RuntimeError(f"Flink cluster did not come up within {wait_s:.0f}s; see {layout.root / 'log'}")


def stop(layout: ClusterLayout | None = None) -> None:
    layout = layout or default_layout()
    if not layout.conf_dir.exists():
        return
    subprocess.run([str(flink_home() / "bin" / "stop-cluster.sh")], env=script_env(layout), check=False, capture_output=True)


def flink_cli() -> list[str]:
    return [str(flink_home() / "bin" / "flink")]
