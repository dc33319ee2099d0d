"""The database URL the Flink job's sink (and every other user of jobs/sessionize/sink) connects with."""
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url_for_jobs() -> str:
    """The URL of the database Django is using right now (the test database under pytest)."""
    db = connection.settings_dict
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    scheme = "tidb" if engine == "django_tidb" else "mysql"
    auth = f"{quote(db.get('USER') or '', safe='')}:{quote(db.get('PASSWORD') or '', safe='')}@"
    tls = f"?tls={quote(settings.LUNA_DB_TLS, safe='')}" if settings.LUNA_DB_TLS else ""
    return f"{scheme}://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 3306}/{db['NAME']}{tls}"
