"""The JVM half of the correlation: the session and join-value state machines in plain Java (`src/`), compiled by
`javac` against the jars the apache-flink package ships, into a jar under the checkout's `var/jvm/` (not committed).

The Python engine (`logic/`) stays the reference; this package holds what both sides share: the rules spec the
Java `Rules` reads, the jar, and the assembly of a JVM revision into the stored document (Python, once per
revision, because fields and conclusions are CEL).
"""
import os
import pickle
import re
import struct
import subprocess
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import pyflink

from ..logic.assemble import assemble, session_uid
from ..logic.records import Event, event_from_line
from ..logic.router import Routed
from ..logic.sessions import Emission, Late, Orphan
from ..logic.template import CompiledTemplate

SOURCES = Path(__file__).resolve().parent / "src"
ROOT = Path(__file__).resolve().parents[3]
JAR = ROOT / "var" / "jvm" / "luna-sessionize.jar"
_ESCAPE = re.compile(r"\\(.)", re.S)


class BuildError(RuntimeError):
    """javac is missing or the sources do not compile."""


def flink_classpath() -> list[str]:
    home = Path(pyflink.__file__).resolve().parent
    return sorted(str(p) for p in (home / "lib").glob("*.jar")) + sorted(str(p) for p in (home / "opt").glob("flink-python*.jar"))


def sources() -> list[Path]:
    return sorted(SOURCES.rglob("*.java"))


def ensure_jar(jar: Path = JAR) -> Path:
    """Compile and package when a source is newer than the jar (cheap when it is not)."""
    newest = max(p.stat().st_mtime for p in sources())
    if jar.exists() and jar.stat().st_mtime >= newest:
        return jar
    javac = os.environ.get("JAVAC", "javac")
    jar.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar.parent) as classes:
        try:
            subprocess.run([javac, "-nowarn", "-encoding", "UTF-8", "-d", classes, "-cp", os.pathsep.join(flink_classpath()),
                            *map(str, sources())], check=True, capture_output=True, text=True)
        except FileNotFoundError as exc:
            raise BuildError("javac not found: install a JDK (openjdk-17-jdk-headless)") from exc
        except subprocess.CalledProcessError as exc:
            raise BuildError(f"javac failed:\n{exc.stderr}") from exc
        partial = jar.with_suffix(f".{os.getpid()}.tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:  # concurrent builds: the last rename wins
            archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n")
            for path in sorted(Path(classes).rglob("*.class")):
                archive.write(path, path.relative_to(classes).as_posix())
        partial.replace(jar)
    return jar


def rules_spec(template: CompiledTemplate) -> str:
    """What the Java `Rules` needs of a template, one setting a line (derived values come from Python's own
    definitions, so the two sides cannot compute them differently)."""
    lines = [
        f"gap {template.gap_ms}", f"lateness {template.lateness_ms}", f"hold {template.join_hold_ms}",
        f"reach {template.max_join_reach_ms}", f"timeout {template.timeout_ms}", "complete " + " ".join(template.complete_when),
    ]
    if template.version is not None:
        lines.append(f"version {template.version}")
    for node in template.nodes.values():
        if node.join is None:
            lines.append(f"node {node.name} baseline {'many' if node.many else 'one'}")
        else:
            lines.append(f"node {node.name} supplement {'many' if node.many else 'one'} {node.join.on} {node.join.lower_ms} {node.join.upper_ms}")
    return "\n".join(lines)


def revision_emission(template: CompiledTemplate, session_key: str, revision: int, cause: str, closed: bool, first: int,
                      prev_first: int | None, next_first: int | None, replaces: list[int], baseline: list[Event],
                      supplements: list[Event]) -> Emission:
    """A session revision from the JVM machine → the Emission the Python machine would have made: sessions are
    named by first event time there, by uid here; the document is assembled from the events in Python."""
    def uid(first_ts: int | None) -> int | None:
        return None if first_ts is None else session_uid(template.name, session_key, first_ts)

    document = assemble(template, session_key, baseline, supplements, closed, uid(prev_first), uid(next_first))
    return Emission(revision, document, [uid(f) for f in replaces], cause)


def decode(template: CompiledTemplate, text: str, session_key: str | None, events: dict[str, Event]) -> list:
    """Out.encodeAll's lines → Emission / Late / Orphan / Routed, with the Python events named by uid."""
    return [_decode_line(template, line, session_key, events) for line in text.split("\n")] if text else []


def _decode_line(template: CompiledTemplate, line: str, session_key: str | None, events: dict[str, Event]):
    kind, rest = line[0], line[2:]
    if kind == "E":
        revision, cause, closed, first, prev, after, replaces, baseline, supplements = rest.split("\t")
        return revision_emission(
            template, session_key, int(revision), cause, closed == "1", int(first), int(prev) if prev else None,
            int(after) if after else None, [int(f) for f in replaces.split(",") if f],
            [events[u] for u in baseline.split(",") if u], [events[u] for u in supplements.split(",") if u],
        )
    uid, text = rest.split("\t", 1)
    text = _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), text)
    return Routed(text, events[uid]) if kind == "R" else {"L": Late, "O": Orphan}[kind](events[uid], text)


def unpack_payloads(blob: bytes, template: CompiledTemplate, cache: "PayloadCache | None" = None) -> dict[str, Event]:
    """The events of a JVM output row (each prefixed by its 4-byte length), by uid: pickled by Python's parser, or
    `T` + source, node, ts, line, origin (U+001F-separated) for a line SQL classified (rebuilt from the line)."""
    events, offset = {}, 0
    while offset < len(blob):
        (size,) = struct.unpack_from(">i", blob, offset)
        payload = blob[offset + 4:offset + 4 + size]
        event = cache.event(payload, template) if cache is not None else payload_event(payload, template)
        events[event.uid] = event
        offset += 4 + size
    return events


def payload_event(payload: bytes, template: CompiledTemplate) -> Event:
    if payload[:1] == b"T":
        source, node, ts, line, origin = payload[1:].decode("utf-8").split("\x1f", 4)
        return event_from_line(template, source, node, int(ts), line, origin)
    return pickle.loads(payload)


class PayloadCache:
    """Events by their payload, for one template version: every revision of a session carries all its events again
    (2.6 revisions a session on the demo logs, streaming), and rebuilding one from its line costs ≈ 12 µs of JSON and
    field extraction. Bounded, oldest first out: a session's revisions come close together. Events are never mutated
    after parsing, so sharing one between revisions is safe."""

    def __init__(self, size: int = 50_000):
        self.size, self.template = size, None
        self.events: OrderedDict[bytes, Event] = OrderedDict()
        self.hits = self.misses = 0

    def event(self, payload: bytes, template: CompiledTemplate) -> Event:
        if template is not self.template:  # another version extracts other fields
            self.events.clear()
            self.template = template
        event = self.events.get(payload)
        if event is not None:
            self.hits += 1
            return event
        self.misses += 1
        event = self.events[payload] = payload_event(payload, template)
        if len(self.events) > self.size:
            self.events.popitem(last=False)
        return event
