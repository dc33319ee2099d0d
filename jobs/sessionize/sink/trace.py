"""An opt-in trace of every statement the sink sends (`LUNA_SINK_TRACE_DIR`), for `bench/store_floor.py`.

The trace is what the server receives, after binding, in order, with the transaction boundaries (PyMySQL sends
COMMIT and ROLLBACK as statements too), one statement a line (the binding escapes line breaks): replayed by the
`mysql` client into a fresh schema, it measures what the database alone costs for a run, with no Python in the loop.
"""
import itertools
import os
from pathlib import Path

from pymysql.constants import COMMAND

from .binding import PipelinedConnection

_numbers = itertools.count()


class TracedConnection(PipelinedConnection):
    """A PyMySQL connection that appends each statement it sends to `<dir>/sink-<pid>-<n>.sql`."""

    def __init__(self, *args, **kwargs):
        directory = Path(os.environ["LUNA_SINK_TRACE_DIR"])
        directory.mkdir(parents=True, exist_ok=True)
        self._trace = (directory / f"sink-{os.getpid()}-{next(_numbers)}.sql").open("ab")
        super().__init__(*args, **kwargs)

    def _execute_command(self, command, sql):
        if command == COMMAND.COM_QUERY:
            text = sql if isinstance(sql, bytes) else sql.encode(self.encoding if hasattr(self, "encoding") else "utf8")
            self._trace.write(text + b";\n")
            if text in (b"COMMIT", b"ROLLBACK"):
                self._trace.flush()  # a run that ends abruptly keeps every finished transaction
        return super()._execute_command(command, sql)

    def close(self):
        self._trace.flush()
        super().close()
