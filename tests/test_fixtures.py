"""Every fixture project under tests/fixtures/ yields exactly the findings its `expect:` comments name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixture_expectations import compare

FIXTURES = Path(__file__).parent / "fixtures"
PROJECTS = sorted(path for path in FIXTURES.iterdir() if path.is_dir()) if FIXTURES.is_dir() else []


@pytest.mark.parametrize("project", PROJECTS, ids=[path.name for path in PROJECTS])
def test_fixture_project_findings_match_expectations(project: Path) -> None:
    missing, unexpected = compare(project)
    assert not missing and not unexpected, (
        f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}"
    )
