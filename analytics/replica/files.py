"""The replica's Parquet files: one per template × UTC day × version, written atomically (temp file + rename).

The version is in the name, so a file never changes once written: a reader holding an older one is unaffected by a
rebuild, and a record (analytics_replica_days) always names a whole file. Strings are dictionary-encoded (a few
distinct values per column and file); the columns are what the fact-path queries read.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from ..facts.row import FACT_SLOTS

TEXT = pa.dictionary(pa.int32(), pa.string())
SCHEMA = pa.schema([("start_ms", pa.int64()), ("status", TEXT), ("conclusion", TEXT), ("severity", TEXT),
                    ("duration_ms", pa.int64()), ("duration_bucket", pa.int16()), ("completeness_e4", pa.int64()),
                    ("nodes", TEXT), ("dim_key", TEXT), *((f"d{i}", TEXT) for i in range(1, FACT_SLOTS + 1))])
COLUMNS = tuple(SCHEMA.names)


class ReplicaFileError(Exception):
    """A replica file is missing, unreadable or not what its record says: its day is read from the row store."""


def root() -> Path:
    return Path(settings.LUNA_FACT_REPLICA_DIR)


def path_of(template_id: int, day_ms: int, version: int) -> Path:
    return root() / f"t{int(template_id)}" / f"{int(day_ms)}.v{int(version)}.parquet"


def table_of(columns: list[tuple]) -> pa.Table:
    """Column lists in COLUMNS order (as read from the fact table) → the file's table."""
    arrays = [pa.array(values, type=field.type.value_type).dictionary_encode() if pa.types.is_dictionary(field.type)
              else pa.array(values, type=field.type) for field, values in zip(SCHEMA, columns)]
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


def write(template_id: int, day_ms: int, version: int, table: pa.Table) -> Path:
    """Atomically: a reader sees the whole file or none. Uncompressed: read speed over size (~2 MB per 100k rows)."""
    path = path_of(template_id, day_ms, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    pq.write_table(table, temp, compression="none", row_group_size=1 << 20)
    os.replace(temp, path)
    return path


def remove_others(template_id: int, day_ms: int, keep_version: int | None) -> None:
    """Files of older (or newer, abandoned) builds of a day."""
    folder = root() / f"t{int(template_id)}"
    for old in folder.glob(f"{int(day_ms)}.v*.parquet") if folder.is_dir() else ():
        if keep_version is None or old.name != path_of(template_id, day_ms, keep_version).name:
            old.unlink(missing_ok=True)


def read(paths: list[Path], rows: list[int], columns: list[str]) -> pa.Table:
    """The files' `columns`, checked against the row counts their records hold, read on a few threads (the reads
    release the GIL). Raises ReplicaFileError naming the first bad file (missing, truncated, not Parquet, wrong schema)."""
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        tables = list(pool.map(lambda job: _read_one(*job, columns), zip(paths, rows)))
    return pa.concat_tables(tables) if tables else _schema(columns).empty_table()


READ_THREADS = 4


def _read_one(path: Path, expected: int, columns: list[str]) -> pa.Table:
    try:
        table = pq.read_table(path, columns=columns, use_threads=False, memory_map=True)
    except (OSError, pa.ArrowException) as exc:
        raise ReplicaFileError(str(path), str(exc)) from None
    if table.num_rows != expected or not table.schema.equals(_schema(columns)):
        raise ReplicaFileError(str(path), f"{table.num_rows} rows of {table.schema.names}, its record says {expected}")
    return table


def _schema(columns: list[str]) -> pa.Schema:
    return pa.schema([SCHEMA.field(name) for name in columns])
