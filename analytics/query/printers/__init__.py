"""One SQL printer per backend for what the ORM cannot say (PostHog's model): percentile aggregation over the
ORM's row set, and statement-level hints. Only names chosen here reach SQL text; values stay bound."""
from typing import Any

from ...db import is_tidb
from .base import Aggregate, Printer
from .mysql import MySQLPrinter
from .sqlite import SQLitePrinter
from .tidb import TiDBPrinter

PRINTERS: dict[str, type[Printer]] = {"mysql": MySQLPrinter, "tidb": TiDBPrinter, "sqlite": SQLitePrinter}


def dialect_of(connection: Any) -> str:
    if connection.vendor == "sqlite":
        return "sqlite"
    return "tidb" if is_tidb(connection) else "mysql"


def printer_for(connection: Any) -> Printer:
    return PRINTERS[dialect_of(connection)]()


__all__ = ["Aggregate", "Printer", "PRINTERS", "dialect_of", "printer_for"]
