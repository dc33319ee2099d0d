"""TiDB cannot run here: its DDL is asserted on a recorded schema editor (the real migration function)."""
from types import SimpleNamespace

from sessions.tidb import HOT_AUTO_INCREMENT_TABLES, spread_writes


class RecordingEditor:
    def __init__(self, engine: str):
        self.connection = SimpleNamespace(settings_dict={"ENGINE": engine}, vendor="mysql")
        self.executed: list[str] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)


def test_auto_random_ids_are_emitted_only_on_tidb():
    tidb = RecordingEditor("django_tidb")
    spread_writes(None, tidb)
    assert tidb.executed == [f"ALTER TABLE {t} MODIFY COLUMN id BIGINT NOT NULL AUTO_RANDOM(5)" for t in HOT_AUTO_INCREMENT_TABLES]
    for engine in ("django.db.backends.mysql", "django.db.backends.sqlite3"):
        other = RecordingEditor(engine)
        spread_writes(None, other)
        assert other.executed == []
