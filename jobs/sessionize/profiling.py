"""An opt-in cProfile of one Python operator's thread (`LUNA_PROFILE_DIR`), for benchmarks.

The per-thread CPU figures of `bench/throughput.py` say which operator costs; this says which functions inside it,
including PyFlink's own row conversion around `process_element`, which a wrapper around the call would miss.
Thread CPU time is the clock, so waiting for the database or for the GIL is not counted as work.
"""
import cProfile
import os
import time
from pathlib import Path


class OperatorProfile:
    """Profiles the calling thread from `start` to `stop` and writes `<dir>/<name>-<pid>-<id>.prof`."""

    def __init__(self, name: str):
        self.name, self.profile = name, None

    def start(self) -> None:
        directory = os.environ.get("LUNA_PROFILE_DIR")
        if directory:
            self.path = Path(directory) / f"{self.name}-{os.getpid()}-{id(self)}.prof"
            self.profile = cProfile.Profile(time.thread_time)
            self.profile.enable()

    def stop(self) -> None:
        if self.profile is not None:
            self.profile.disable()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.profile.dump_stats(str(self.path))
            self.profile = None
