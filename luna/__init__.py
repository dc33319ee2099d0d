"""Luna project package: settings, URLs and the Celery app."""
import pymysql

# PyMySQL stands in for mysqlclient for both the MySQL backend and django-tidb.
pymysql.install_as_MySQLdb()

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
