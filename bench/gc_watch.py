"""Cyclic-GC collections seen while a bench times something (gc.callbacks).

The benches freeze what start-up and the warm-up made (`gc.freeze()`, as luna/gunicorn_conf.py does in each worker),
so a full collection no longer walks Django's ~130k objects (~60 ms here); this says how many collections still ran
in the timed runs, per generation (a full one, generation 2, is a stall)."""
import gc


class Collections:
    """Counts per generation since the last `take()`."""

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.counts[info["generation"]] += 1

    def take(self) -> list[int]:
        """Collections per generation since the last call (or since created), and start counting afresh."""
        counts, self.counts = self.counts, [0, 0, 0]
        return counts
