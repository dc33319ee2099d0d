"""Template studio: review rules, dry-run and backtest bounds."""
from django.core.exceptions import ImproperlyConfigured

from .env import env

# One admin only: let them approve their own proposals (audited as such); otherwise another admin must approve.
LUNA_STUDIO_SINGLE_ADMIN = env.bool("LUNA_STUDIO_SINGLE_ADMIN", default=False)
LUNA_STUDIO_DRY_RUN_LINES = env.int("LUNA_STUDIO_DRY_RUN_LINES", default=2000)  # per source
LUNA_STUDIO_DRY_RUN_SECONDS = env.float("LUNA_STUDIO_DRY_RUN_SECONDS", default=5.0)
LUNA_STUDIO_BACKTEST_MAX_LINES = env.int("LUNA_STUDIO_BACKTEST_MAX_LINES", default=500_000)  # all sources together
# auto: the pure engine up to MAX_LINES, a bounded Flink job beyond; pure | flink force one
LUNA_STUDIO_BACKTEST_ENGINE = env.str("LUNA_STUDIO_BACKTEST_ENGINE", default="auto")
if LUNA_STUDIO_BACKTEST_ENGINE not in ("auto", "pure", "flink"):
    raise ImproperlyConfigured(f"LUNA_STUDIO_BACKTEST_ENGINE must be auto, pure or flink, not {LUNA_STUDIO_BACKTEST_ENGINE!r}")
LUNA_STUDIO_BACKTEST_KEEP_HOURS = env.int("LUNA_STUDIO_BACKTEST_KEEP_HOURS", default=24)

# Why: a backtest's comparison lives on its row (the Flink path's sessions in scratch databases under var/backtests/);
# hourly, rows older than the keep time go with their scratch (also on every new request).
from .celery import CELERY_BEAT_SCHEDULE as _BEAT  # noqa: E402

CELERY_BEAT_SCHEDULE = {**_BEAT, "clean-up-backtests": {
    "task": "studio.tasks.clean_up_backtests", "schedule": 3600.0, "options": {"expires": 3600.0}}}
