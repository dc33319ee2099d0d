"""Configuration comes from the environment: DATABASE_URL picks SQLite, MySQL (PyMySQL) or TiDB (django-tidb)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.sessionize.sink.dialects import MYSQL, SQLITE, TIDB, connect

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings; from django.db import connections; "
    "from sessions.services.sink_database import database_url_for_jobs; d = settings.DATABASES['default']; "
    "print(json.dumps([d['ENGINE'], d.get('NAME'), d.get('PORT'), type(connections['default']).__module__, "
    "database_url_for_jobs(), settings.CELERY_BROKER_URL]))"
)


def settings_for(tmp_path: Path, **env: str) -> list:
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environment.update(DJANGO_SETTINGS_MODULE="luna.settings", LUNA_VAR_DIR=str(tmp_path), **env)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_embedded_default_is_a_sqlite_file_and_a_filesystem_broker(tmp_path):
    engine, name, _, _, job_url, broker = settings_for(tmp_path)
    assert engine == "django.db.backends.sqlite3" and name == str(tmp_path / "luna.sqlite3")
    assert job_url == f"sqlite:///{tmp_path / 'luna.sqlite3'}"
    assert broker == "filesystem://" and (tmp_path / "celery-broker").is_dir()


def test_mysql_urls_use_pymysql(tmp_path):
    engine, name, port, backend, job_url, _ = settings_for(tmp_path, DATABASE_URL="mysql://luna:s3cret@db.local:3307/luna")
    assert (engine, name, port, backend) == ("django.db.backends.mysql", "luna", 3307, "django.db.backends.mysql.base")
    assert job_url == "mysql://luna:s3cret@db.local:3307/luna"
    import MySQLdb  # noqa: F401  PyMySQL installed itself under the name Django's backend imports

    assert "pymysql" in sys.modules["MySQLdb"].__name__


def test_tidb_urls_select_django_tidb(tmp_path):
    engine, name, port, backend, job_url, _ = settings_for(tmp_path, DATABASE_URL="tidb://root:@tidb.local:4000/luna")
    assert (engine, name, port, backend) == ("django_tidb", "luna", 4000, "django_tidb.base")
    assert job_url.startswith("tidb://root:@tidb.local:4000/luna")


@pytest.mark.parametrize("url, dialect", [("sqlite:////tmp/x.sqlite3", SQLITE), ("mysql://a:b@h/db", MYSQL), ("tidb://a:b@h:4000/db", TIDB)])
def test_the_job_sink_reads_the_same_urls(url, dialect):
    assert connect(url)[0] is dialect


def test_an_unknown_scheme_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported DATABASE_URL scheme"):
        connect("postgres://x/y")


def test_tls_to_mysql_only_when_configured_and_connections_persist(tmp_path):
    probe = ("import django, json; django.setup(); from django.conf import settings; from sessions.services.sink_database import "
             "database_url_for_jobs; d = settings.DATABASES['default']; print(json.dumps([d['OPTIONS'], d['CONN_MAX_AGE'], "
             "d['CONN_HEALTH_CHECKS'], database_url_for_jobs()]))")

    def read(**env):
        environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "LUNA_DB_TLS")}
        environment.update(DJANGO_SETTINGS_MODULE="luna.settings", LUNA_VAR_DIR=str(tmp_path), DATABASE_URL="mysql://l:p@db:3306/luna", **env)
        out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    options, max_age, checks, job_url = read()
    assert options["ssl_disabled"] is True and max_age == 60 and checks is True and "tls" not in job_url
    options, _, _, job_url = read(LUNA_DB_TLS="/etc/ssl/ca.pem")
    assert options["ssl"] == {"ca": "/etc/ssl/ca.pem"} and "ssl_disabled" not in options
    assert job_url.endswith("?tls=%2Fetc%2Fssl%2Fca.pem")


# ---- secret key and HTTPS (check --deploy) ------------------------------------------------------------------
PRODUCTION = {
    "DATABASE_URL": "mysql://luna:pw@db.example.com:3306/luna",
    "LUNA_SECRET_KEY": "x7Jq2-production-only-key-generated-by-get-random-secret-key-0f9a",
    "LUNA_ALLOWED_HOSTS": "luna.example.com",
    "LUNA_CSRF_TRUSTED_ORIGINS": "https://luna.example.com",
    "LUNA_SECURE_COOKIES": "true", "LUNA_SSL_REDIRECT": "true", "LUNA_HSTS_SECONDS": "31536000",
    "LUNA_HSTS_INCLUDE_SUBDOMAINS": "true", "LUNA_HSTS_PRELOAD": "true",
}


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    dropped = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the last one is set by the browser tests
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LUNA_") and k not in dropped}
    environment.update(DJANGO_SETTINGS_MODULE="luna.settings", LUNA_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True)


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_outside_the_embedded_default_a_secret_key_is_required(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k != "LUNA_SECRET_KEY"}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0 and "LUNA_SECRET_KEY is not set" in result.stderr
    result = manage(tmp_path, "check", **env, LUNA_SECRET_KEY="luna-embedded-insecure-key-change-me")
    assert result.returncode != 0 and "public default or too weak" in result.stderr


def test_the_embedded_default_generates_its_own_key_once(tmp_path):
    assert manage(tmp_path, "check", DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}").returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50 and (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert manage(tmp_path, "check").returncode == 0 and (tmp_path / "secret_key").read_text() == key
