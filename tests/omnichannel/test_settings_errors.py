"""A malformed environment stops the start with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
    ("DATABASE_URL", "mysql-ish nonsense", "DATABASE_URL='mysql-ish nonsense' is not a database URL"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a Redis URL"),
    ("CHROMA_PORT", "eight thousand", "CHROMA_PORT='eight thousand' is not an integer"),
    ("LLM_PROVIDER", "magic", "LLM_PROVIDER='magic' is not one of: grounded, openai"),
])
def test_a_bad_value_names_the_variable_and_what_is_expected(name, value, expected, tmp_path):
    result = _check(VAR_DIR=str(tmp_path), **{name: value})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _check(VAR_DIR=str(tmp_path), DJANGO_PRODUCTION="1")
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY must be set" in result.stderr
