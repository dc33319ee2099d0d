"""Everything a sessionize job run needs, as one JSON file written by the platform (no hard-coded hosts)."""
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class JobConfig:
    template: dict[str, Any]
    template_id: int
    version: int
    database_url: str
    data_dir: str
    bounded: bool = False
    parallelism: int = 1
    checkpoint_interval_ms: int = 10_000
    checkpoint_dir: str = ""
    monitor_interval: str = "1s"
    flush_interval_ms: int = 500
    flush_rows: int = 1000
    buffer_timeout_ms: int | None = None  # Flink's network buffer timeout (None: Flink's 100 ms)
    updates_dir: str = ""  # published template versions, read by the running job (broadcast stream)
    kafka: dict[str, str] = field(default_factory=dict)  # bootstrap_servers, group_id, connector_jar: sources are topics
    # A bounded backfill that holds event time back until its input ends: no line is late, so the sessions do not
    # depend on the order Flink reads files and sources in (which it does not fix). Costs state: every session
    # stays open until the end, so the platform sets it only for inputs below a size limit.
    hold_watermark: bool = False
    # "jvm": the session mechanics in Java keyed functions (jobs/sessionize/jvm), Python only parsing lines and
    # assembling session revisions; "python": in embedded Python (the reference machines).
    engine: str = "jvm"
    # "thread": every Python operator in the TaskManager's one embedded interpreter (cheapest crossing, one GIL);
    # "process": each Python operator in its own worker process (its own core). LUNA_PYTHON_MODE picks the default.
    python_mode: str = field(default_factory=lambda: os.environ.get("LUNA_PYTHON_MODE", "thread"))
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        mode = "backfill" if self.bounded else "live"
        return f"luna-sessionize:{self.template['name']}:v{self.version}:{mode}"

    def source_path(self, location: str) -> str:
        """A relative `location` lives under the data dir; absolute paths and URIs are used as given."""
        if "://" in location or os.path.isabs(location):
            return location
        return str(Path(self.data_dir) / location)

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: str | Path) -> "JobConfig":
        return cls(**json.loads(Path(path).read_text()))
