"""Task names live in one place (omnichannel/task_names.py): no string task name is typed anywhere else
in the code, `enqueue` refuses a name that is not one of ours, and the README's task table is the
registered tasks with their modules, queues and schedules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from omnichannel.celery import DEFAULT_QUEUE, app
from omnichannel.jobs import enqueue, enqueue_later
from omnichannel.schedules import SCHEDULES
from omnichannel.task_names import TASK_NAMES

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "tests", "var", "migrations", "node_modules", ".git"}


def _our_tasks() -> dict:
    app.loader.import_default_modules()
    # Not Celery's own, nor the tasks other test modules register for themselves.
    return {
        name: task
        for name, task in app.tasks.items()
        if not name.startswith("celery.") and not task.__module__.startswith("tests.")
    }


def _code_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.isdisjoint(relative.parts) and relative != Path("omnichannel/task_names.py"):
            yield relative


def _docstrings(tree: ast.AST) -> set[int]:
    owners = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def test_every_registered_task_has_its_name_in_task_names_and_every_name_is_registered():
    assert set(_our_tasks()) == TASK_NAMES


def test_no_task_name_is_typed_as_a_string_outside_task_names():
    typed = []
    for relative in _code_files():
        tree = ast.parse((ROOT / relative).read_text())
        docstrings = _docstrings(tree)
        typed += [
            f"{relative}:{node.lineno}: {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in TASK_NAMES
            and id(node) not in docstrings
        ]
    assert typed == [], "import the name from omnichannel.task_names instead:\n" + "\n".join(typed)


def test_the_check_itself_finds_a_typed_name():
    tree = ast.parse('enqueue("send_draft", 1)\nsingle_flight(TaskName.ZOHO_SYNC)\n')
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in TASK_NAMES]
    assert found == ["send_draft"]


@pytest.mark.parametrize("call", [lambda: enqueue("send_drafts", 1), lambda: enqueue_later("sendDraft", 1, countdown=5)])
def test_enqueue_refuses_a_name_that_is_not_ours_at_the_call(call, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValueError, match="task_names"):
        call()
    assert callbacks == []  # nothing was booked for after the commit either


def _schedule_text(spec) -> str:
    if spec is None:
        return "on demand"
    if spec[0] == "every":
        return f"every {spec[1]} s"
    minute, hour, day_of_week = spec
    return f"cron `{minute} {hour} * * {day_of_week}`"


def _readme_task_table() -> set[tuple[str, ...]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("### Tasks\n", 1)[1]
    rows = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            rows.add(tuple(cell.strip() for cell in line.strip("|").split("|")))
        elif rows and not line.startswith("|"):
            break
    return rows


def test_the_readme_task_table_is_the_registered_tasks_with_their_module_queue_and_schedule():
    expected = set()
    for name, task in _our_tasks().items():
        queue = app.conf.task_routes.get(name, {}).get("queue", DEFAULT_QUEUE)
        module = task.__module__.replace(".", "/") + ".py"
        assert (ROOT / module).exists()
        expected.add((f"`{name}`", f"`{module}`", f"`{queue}`", _schedule_text(SCHEDULES.get(name))))
    assert _readme_task_table() == expected


def test_routes_and_schedules_name_only_registered_tasks():
    routed = set(app.conf.task_routes)
    assert routed <= TASK_NAMES and set(SCHEDULES) <= TASK_NAMES
