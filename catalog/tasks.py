"""Thin Celery tasks of the catalog app."""

from celery import shared_task

from catalog.demand import demand_mine, last_full_week
from omnichannel.task_names import TaskName


@shared_task(name=TaskName.MINE_DEMAND, acks_late=True)
def mine_demand(week: str = "") -> int:
    rows, _, _ = demand_mine(week=week or last_full_week())
    return len(rows)
