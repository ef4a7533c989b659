"""An undo window needs a worker to send the reply when it ends: inline processing refuses one at start.

With tasks inline (SYNC_USE_CELERY=0) the send runs at once after the approval, finds the undo
window still open and stops; no beat or delayed task ever comes back, so the reply would never go.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(tmp_path, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SEND_UNDO_SECONDS"}}
    env.update(VAR_DIR=str(tmp_path), **env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_inline_processing_with_an_undo_window_is_refused_naming_both_variables(tmp_path):
    result = _check(tmp_path, SYNC_USE_CELERY="0", SEND_UNDO_SECONDS="20")
    assert result.returncode == 2, result.stderr
    assert "SEND_UNDO_SECONDS=20 needs workers (SYNC_USE_CELERY=1)" in result.stderr
    assert "Traceback" not in result.stderr


def test_inline_processing_starts_with_no_undo_window(tmp_path):
    assert _check(tmp_path, SYNC_USE_CELERY="0", SEND_UNDO_SECONDS="0").returncode == 0
    assert _check(tmp_path, SYNC_USE_CELERY="0").returncode == 0  # the default inline is 0
