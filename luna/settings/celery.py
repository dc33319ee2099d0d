"""Celery: Redis in production and tests, a filesystem transport for the embedded default."""
from .env import VAR_DIR, env

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue, _processed = VAR_DIR / "celery-broker", VAR_DIR / "celery-processed"
    for _folder in (_queue, _processed):  # kombu's filesystem transport does not create them
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "store_processed": False,
    }
# Several Luna installations (or test runs) may share one Redis: each consumes only its own queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("LUNA_CELERY_QUEUE", default="luna")
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True  # task name and arguments on the result row: the jobs page shows what ran
CELERY_TASK_TRACK_STARTED = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# Every periodic task, in one place. The DatabaseScheduler copies these entries into django-celery-beat's
# tables when beat starts, so they also show (and can be paused) in the admin.
# LUNA_JOB_MONITOR_INTERVAL: seconds between two polls of the cluster for every running job.
_MONITOR_EVERY = env.float("LUNA_JOB_MONITOR_INTERVAL", default=10.0)
CELERY_BEAT_SCHEDULE = {
    # Why: the jobs page shows state, uptime, checkpoints, records, lag and back-pressure as of the last poll,
    # and a failed job is only resubmitted (with back-off) when a poll sees it. Expires after one interval so
    # a backlog of polls never piles up behind a slow one.
    "monitor-flink-jobs": {
        "task": "operations.tasks.monitor_jobs",
        "schedule": _MONITOR_EVERY,
        "options": {"expires": _MONITOR_EVERY},
    },
    # Why: events beyond allowed_lateness wait in luna_late_event; this re-applies them to the stored sessions
    # (SPEC §4), so a late delivery flips a "lost order" within a minute without anyone pressing a button.
    "replay-late-events": {
        "task": "sessions.tasks.replay_late_events",
        "schedule": env.float("LUNA_LATE_REPLAY_INTERVAL", default=60.0),
        "options": {"expires": 60.0},
    },
    # Why: a template's `retention` (e.g. "90d") bounds what is stored; hourly batched deletes keep each run short.
    "apply-retention": {
        "task": "sessions.tasks.apply_retention",
        "schedule": env.float("LUNA_RETENTION_INTERVAL", default=3600.0),
        "options": {"expires": 3600.0},
    },
    # Why: a provisional session enters the macro rollups only once it has stopped changing for
    # LUNA_ROLLUP_SETTLE_MS (live charts do not flicker); this applies the ones that have, also when the stream is idle.
    "settle-rollups": {
        "task": "analytics.tasks.settle_rollups",
        "schedule": env.float("LUNA_ROLLUP_SETTLE_INTERVAL", default=5.0),
        "options": {"expires": 5.0},
    },
    # Why: alerts on macro series (SPEC §6) must fire within about a minute of the window closing; each
    # evaluation reads whole minutes, so once a minute is enough.
    "evaluate-alerts": {
        "task": "analytics.tasks.evaluate_alerts",
        "schedule": env.float("LUNA_ALERT_INTERVAL", default=60.0),
        "options": {"expires": 60.0},
    },
    # Why: sessions in flight per node are live state; only a periodic snapshot turns them into a trend (a stuck
    # channel shows as a rising 'waiting at verified' line).
    "take-trend-snapshots": {
        "task": "analytics.tasks.take_trend_snapshots",
        "schedule": env.float("LUNA_TREND_INTERVAL", default=60.0),
        "options": {"expires": 60.0},
    },
    # Why: a fact-table day whose version moved (the sink, retention) is read from the row store until its replica
    # file is rebuilt; a bounded number of days per run keeps each run short (LUNA_FACT_REPLICA_DAYS_PER_RUN).
    "refresh-fact-replica": {
        "task": "analytics.tasks.refresh_fact_replica",
        "schedule": env.float("LUNA_FACT_REPLICA_INTERVAL", default=60.0),
        "options": {"expires": 60.0},
    },
}
