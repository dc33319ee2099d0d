"""Where a template's sources may read: under LUNA_DATA_DIR, or under one of LUNA_SOURCE_ROOTS when set.

Checked when a template is saved, so a document cannot point the job at /etc or ../../ of the data dir. A
relative location lives under the data dir (as the job reads it); `file://` URIs count as paths; any other
URI (s3://, hdfs://) only when it starts with a configured root URI.
"""
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def allowed_roots() -> list[str]:
    return list(getattr(settings, "LUNA_SOURCE_ROOTS", None) or [settings.LUNA_DATA_DIR])


def problems(document: dict[str, Any]) -> list[str]:
    """One message per source whose `location` lies outside every allowed root."""
    roots = allowed_roots()
    found = []
    for index, source in enumerate(document.get("sources") or []):
        if not isinstance(source, dict) or not isinstance(source.get("location"), str) or not source["location"]:
            continue  # the template compiler reports missing locations
        location = source["location"]
        if not is_allowed(location, roots):
            name = source.get("name", index)
            found.append(f"sources.{name}.location: {location!r} is outside the allowed data roots "
                         f"({', '.join(roots)}); use a path relative to the data directory.")
    return found


def is_allowed(location: str, roots: list[str]) -> bool:
    if "://" in location and not location.startswith("file://"):
        return any(_is_uri_root(root) and location.startswith(root.rstrip("/") + "/") for root in roots)
    path = _resolve(urlsplit(location).path if location.startswith("file://") else location)
    return any(not _is_uri_root(root) and _inside(path, _resolve(root)) for root in roots)


def _is_uri_root(root: str) -> bool:
    return "://" in root and not root.startswith("file://")


def _resolve(location: str) -> Path:
    """Absolute, `..` and symlinks resolved (the directory need not exist yet); relative to the data dir."""
    path = Path(location[len("file://"):] if location.startswith("file://") else location)
    if not path.is_absolute():
        path = Path(settings.LUNA_DATA_DIR) / path
    return Path(os.path.realpath(path))


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
