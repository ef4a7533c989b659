"""docker-compose.yml has no default for any secret (issue item 9): what `docker compose config` would
show, read from the file itself (no Docker on CI machines).

Compose substitutes `${VAR}` and `$VAR` from the shell or a `.env` file next to it, and an unset one
becomes an empty string with a warning: a secret written as `${METRICS_PASSWORD}` deploys with an
empty password, `${VAR:-dev-secret}` / `${VAR-dev-secret}` with a public one. Every substitution must
be `${VAR:?reason}`, which stops compose when VAR is unset or empty. `$$` is compose's escape for a
literal `$` (the minio-init shell reads its own variables that way) and is not a substitution.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A `$` not escaped by another `$`, then `{...}` or a bare name: what compose interpolates.
_SUBSTITUTION = re.compile(r"(?<!\$)(?:\$\$)*\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_MANDATORY = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}")


def substitutions(text: str) -> list[str]:
    return [match.group(1) for match in _SUBSTITUTION.finditer(text)]


def test_every_substitution_in_docker_compose_is_mandatory_with_a_reason():
    text = (ROOT / "docker-compose.yml").read_text()
    found = substitutions(text)
    assert found, "the metrics password is substituted: the check must see it"
    assert [s for s in found if not _MANDATORY.fullmatch(s)] == []


@pytest.mark.parametrize("written", ["${METRICS_PASSWORD}", "$METRICS_PASSWORD", "${METRICS_PASSWORD:-admin}",
                                     "${METRICS_PASSWORD-admin}", "${METRICS_PASSWORD:+x}", "${METRICS_PASSWORD:?}",
                                     "$$$METRICS_PASSWORD"])
def test_the_check_catches_every_way_of_writing_an_optional_secret(written):
    assert [s for s in substitutions(f"content: {written}\n") if not _MANDATORY.fullmatch(s)] != []


def test_an_escaped_dollar_is_no_substitution():
    assert substitutions('command: mc alias set local http://minio:9000 "$$MINIO_ROOT_USER"') == []
    assert substitutions("content: ${METRICS_PASSWORD:?set METRICS_PASSWORD}") == [
        "{METRICS_PASSWORD:?set METRICS_PASSWORD}"]
