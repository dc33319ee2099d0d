"""A small client for Flink's REST API with typed results (the only way Luna talks to a cluster).

Every answer is parsed into a frozen dataclass by a `from_json` classmethod, so the monitor's logic can be
unit-tested against recorded JSON. Errors carry Flink's own text in full (its stack traces are the diagnosis);
`FlinkUnavailable` marks the transient kind (nothing answers, a timeout, a leader election) that tasks retry.
"""
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LONG_MIN = -9223372036854775808  # Flink's "no watermark yet"
PYTHON_DRIVER = "org.apache.flink.client.python.PythonDriver"
BACKPRESSURE_RANK = {"ok": 0, "low": 1, "high": 2}


class FlinkError(Exception):
    """Flink refused or failed a request; `str()` is Flink's full error text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FlinkUnavailable(FlinkError):
    """Nothing answered, it timed out, or the cluster is electing a leader: worth retrying."""


class JobNotFound(FlinkError):
    """The cluster does not know the job (a JobManager restart without HA forgets its jobs)."""


@dataclass(frozen=True)
class ClusterOverview:
    taskmanagers: int
    slots_total: int
    slots_available: int
    jobs_running: int
    version: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ClusterOverview":
        return cls(data.get("taskmanagers", 0), data.get("slots-total", 0), data.get("slots-available", 0),
                   data.get("jobs-running", 0), data.get("flink-version", ""))


@dataclass(frozen=True)
class JobSummary:
    jid: str
    name: str
    state: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "JobSummary":
        return cls(data["jid"], data.get("name", ""), data.get("state", ""))


@dataclass(frozen=True)
class Vertex:
    id: str
    name: str
    parallelism: int
    status: str
    read_records: int
    write_records: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Vertex":
        metrics = data.get("metrics", {})
        return cls(data["id"], data.get("name", ""), data.get("parallelism", 1), data.get("status", ""),
                   int(metrics.get("read-records", 0)), int(metrics.get("write-records", 0)))


@dataclass(frozen=True)
class JobDetail:
    """`GET /jobs/<id>`: state, timestamps, vertices with record counts, and which vertices are sources/sinks."""

    jid: str
    name: str
    state: str
    start_time_ms: int
    now_ms: int
    timestamps: dict[str, int]
    vertices: tuple[Vertex, ...]
    task_counts: dict[str, int]
    source_ids: frozenset[str] = field(default_factory=frozenset)
    sink_ids: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "JobDetail":
        nodes = data.get("plan", {}).get("nodes", [])
        fed = {edge["id"] for node in nodes for edge in node.get("inputs", [])}
        return cls(
            jid=data["jid"], name=data.get("name", ""), state=data.get("state", ""),
            start_time_ms=data.get("start-time", 0), now_ms=data.get("now", 0),
            timestamps=dict(data.get("timestamps", {})),
            vertices=tuple(Vertex.from_json(v) for v in data.get("vertices", [])),
            task_counts=dict(data.get("status-counts", {})),
            source_ids=frozenset(n["id"] for n in nodes if not n.get("inputs")),
            sink_ids=frozenset(n["id"] for n in nodes if n["id"] not in fed),
        )

    @property
    def all_tasks_running(self) -> bool:
        total = sum(self.task_counts.values())
        return self.state == "RUNNING" and total > 0 and self.task_counts.get("RUNNING", 0) == total

    @property
    def running_since_ms(self) -> int | None:
        """When the job last entered RUNNING (a restart moves it), or None."""
        return self.timestamps.get("RUNNING") or None

    @property
    def records_in(self) -> int:
        return sum(v.read_records for v in self.vertices if v.id in self.source_ids)

    @property
    def records_out(self) -> int:
        return sum(v.read_records for v in self.vertices if v.id in self.sink_ids)


@dataclass(frozen=True)
class CheckpointInfo:
    """`GET /jobs/<id>/checkpoints`: the latest completed checkpoint, savepoint and restore."""

    completed: int
    failed: int
    latest_id: int | None
    latest_at_ms: int | None
    latest_path: str
    savepoint_path: str
    restored_path: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CheckpointInfo":
        counts, latest = data.get("counts", {}), data.get("latest", {})
        done = latest.get("completed") or {}
        return cls(
            completed=counts.get("completed", 0), failed=counts.get("failed", 0),
            latest_id=done.get("id"), latest_at_ms=done.get("latest_ack_timestamp"),
            latest_path=done.get("external_path", "") or "",
            savepoint_path=(latest.get("savepoint") or {}).get("external_path", "") or "",
            restored_path=(latest.get("restored") or {}).get("external_path", "") or "",
        )


@dataclass(frozen=True)
class Backpressure:
    level: str
    ratio: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Backpressure":
        ratios = [s.get("ratio", 0.0) for s in data.get("subtasks", [])]
        return cls(data.get("backpressureLevel") or data.get("backpressure-level") or "ok", max(ratios, default=0.0))

    @staticmethod
    def worst(items: list["Backpressure"]) -> "Backpressure | None":
        if not items:
            return None
        return max(items, key=lambda b: (BACKPRESSURE_RANK.get(b.level, 0), b.ratio))


@dataclass(frozen=True)
class SavepointStatus:
    done: bool
    location: str
    failure: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SavepointStatus":
        operation = data.get("operation") or {}
        cause = operation.get("failure-cause") or {}
        return cls(data.get("status", {}).get("id") == "COMPLETED", operation.get("location", "") or "",
                   cause.get("stack-trace") or cause.get("class") or "")


def watermark_from_json(data: list[dict[str, Any]]) -> int | None:
    """The lowest input watermark over a vertex's subtasks; None while any has none yet."""
    values = [int(item["value"]) for item in data if item.get("id", "").endswith("currentInputWatermark")]
    if not values or min(values) <= LONG_MIN:
        return None
    return min(values)


def failures_from_json(data: dict[str, Any]) -> list[str]:
    """Flink's exception history, newest first, each as the full stack trace."""
    entries = data.get("exceptionHistory", {}).get("entries", [])
    return [entry.get("stacktrace") or entry.get("exceptionName", "") for entry in entries]


class FlinkClient:
    """Flink REST calls used by Luna. `base_url` is the JobManager's REST address."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    # cluster
    def overview(self) -> ClusterOverview:
        return ClusterOverview.from_json(self._call("GET", "/overview"))

    def jobs(self) -> list[JobSummary]:
        return [JobSummary.from_json(j) for j in self._call("GET", "/jobs/overview").get("jobs", [])]

    def jobmanager_log(self) -> str:
        return self._call("GET", "/jobmanager/log", raw=True, timeout=30.0)

    # one job
    def job(self, jid: str) -> JobDetail:
        return JobDetail.from_json(self._call("GET", f"/jobs/{jid}"))

    def checkpoints(self, jid: str) -> CheckpointInfo:
        return CheckpointInfo.from_json(self._call("GET", f"/jobs/{jid}/checkpoints"))

    def watermark(self, jid: str, vertex_id: str) -> int | None:
        return watermark_from_json(self._call("GET", f"/jobs/{jid}/vertices/{vertex_id}/watermarks"))

    def backpressure(self, jid: str, vertex_id: str) -> Backpressure:
        return Backpressure.from_json(self._call("GET", f"/jobs/{jid}/vertices/{vertex_id}/backpressure"))

    def job_metrics(self, jid: str, names: list[str]) -> dict[str, str]:
        items = self._call("GET", f"/jobs/{jid}/metrics?get={','.join(names)}")
        return {item["id"]: item.get("value", "") for item in items}

    def failures(self, jid: str) -> list[str]:
        return failures_from_json(self._call("GET", f"/jobs/{jid}/exceptions"))

    # control
    def stop_with_savepoint(self, jid: str, target_directory: str, drain: bool = False) -> str:
        body = {"targetDirectory": target_directory, "drain": drain}
        return self._call("POST", f"/jobs/{jid}/stop", body)["request-id"]

    def savepoint_status(self, jid: str, request_id: str) -> SavepointStatus:
        return SavepointStatus.from_json(self._call("GET", f"/jobs/{jid}/savepoints/{request_id}"))

    def cancel(self, jid: str) -> None:
        self._call("PATCH", f"/jobs/{jid}?mode=cancel")

    # submission: the flink-python jar once, then PythonDriver runs with `-py main.py --config ...`
    def jars(self) -> list[dict[str, Any]]:
        return self._call("GET", "/jars").get("files", [])

    def upload_jar(self, path: Path) -> str:
        boundary = uuid.uuid4().hex
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="jarfile"; filename="{path.name}"\r\n'
                "Content-Type: application/x-java-archive\r\n\r\n").encode()
        body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        answer = self._call("POST", "/jars/upload", body, content_type=f"multipart/form-data; boundary={boundary}", timeout=60.0)
        return Path(answer["filename"]).name

    def run_jar(self, jar_id: str, entry_class: str, args: list[str], savepoint: str = "", timeout: float = 180.0) -> str:
        body: dict[str, Any] = {"entryClass": entry_class, "programArgsList": args}
        if savepoint:
            body.update(savepointPath=savepoint, allowNonRestoredState=False)
        return self._call("POST", f"/jars/{jar_id}/run", body, timeout=timeout)["jobid"]

    # transport
    def _call(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
              raw: bool = False, timeout: float | None = None) -> Any:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc, path) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeout
            raise FlinkUnavailable(f"Flink REST {self.base_url} did not answer {method} {path}: {exc}") from None
        if raw:
            return payload.decode(errors="replace")
        return json.loads(payload) if payload else {}


def _http_error(exc: urllib.error.HTTPError, path: str) -> FlinkError:
    text = exc.read().decode(errors="replace")
    try:
        errors = json.loads(text).get("errors", [text])
    except (ValueError, AttributeError):
        errors = [text]
    message = f"Flink answered {exc.code} to {path}:\n" + "\n".join(str(e) for e in errors)
    if exc.code == 404 and path.startswith("/jobs/"):
        return JobNotFound(message, exc.code)
    if exc.code in (502, 503, 504):
        return FlinkUnavailable(message, exc.code)
    return FlinkError(message, exc.code)
