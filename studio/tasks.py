"""Celery task: the restart an admin confirms after activating a version that needs one (long: savepoint)."""
from typing import Any

from celery import shared_task
from django.contrib.auth import get_user_model


@shared_task
def restart_template_job(name: str, user_id: int) -> dict[str, Any]:
    from .services import review

    user = get_user_model().objects.get(pk=user_id)
    return {"template": name, "message": review.restart(name, user)}


@shared_task
def run_backtest(backtest_id: int) -> str:
    from .services import backtest

    return backtest.run(backtest_id)


@shared_task
def clean_up_backtests() -> int:
    from .services import backtest

    return backtest.cleanup()
