"""`plumbline fix --agent` and `plumbline implement` in a terminal, against the fake Messages API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.fake_api import FakeMessagesAPI, Reply, create, str_replace, text, view
from tests.agent.helpers import FK_FIXED, FK_LINE
from tests.agent.test_implement import INCLUDE_AFTER, INCLUDE_BEFORE, MAIN_AFTER, MAIN_BEFORE, ROUTE, SERVICE


def plumbline(cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lsp_server", *arguments], cwd=cwd, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def script_fix(api: FakeMessagesAPI) -> None:
    api.reply(view("app/models.py"))
    api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    api.reply(text("Indexed orders.customer_id."))


def test_fix_prints_the_verified_diff(fake_api: FakeMessagesAPI, shop: Path) -> None:
    script_fix(fake_api)
    done = plumbline(shop, "fix", "--agent", "app/models.py:22:DB003")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("--- a/app/models.py\n+++ b/app/models.py\n")
    assert "+" + FK_FIXED in done.stdout and "-" + FK_LINE in done.stdout
    assert "verified" in done.stderr and "tokens" in done.stderr
    assert "index=True" not in (shop / "app/models.py").read_text()


def test_fix_write_applies_it(fake_api: FakeMessagesAPI, shop: Path) -> None:
    script_fix(fake_api)
    done = plumbline(shop, "fix", "--agent", "app/models.py:22", "--write")
    assert done.returncode == 0, done.stderr
    assert FK_FIXED in (shop / "app/models.py").read_text()
    assert plumbline(shop, "check").returncode == 0


def test_write_never_clobbers_a_file_changed_meanwhile(fake_api: FakeMessagesAPI, shop: Path) -> None:
    def user_edits_then_replace(body):
        models = shop / "app/models.py"
        models.write_text(models.read_text() + "# edited by the user\n")
        return Reply([str_replace("app/models.py", FK_LINE, FK_FIXED)])

    fake_api.reply(view("app/models.py"))
    fake_api.then(user_edits_then_replace)
    fake_api.reply(text("Done."))
    done = plumbline(shop, "fix", "--agent", "app/models.py:22:DB003", "--write")
    assert done.returncode == 2 and "changed on disk" in done.stderr
    assert "index=True" not in (shop / "app/models.py").read_text()


@pytest.mark.parametrize("target, message", [
    ("app/models.py:3", "no finding at app/models.py:3"),
    ("app/models.py:22:DB001", "no DB001 finding"),
    ("app/models.py", "expected PATH:LINE"),
    ("app/nope.py:1", "no such file"),
])
def test_fix_usage_mistakes(fake_api: FakeMessagesAPI, shop: Path, target: str, message: str) -> None:
    done = plumbline(shop, "fix", "--agent", target)
    assert done.returncode == 2 and message in done.stderr
    assert fake_api.requests == []


def test_fix_without_a_key(fake_api: FakeMessagesAPI, shop: Path, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    done = plumbline(shop, "fix", "--agent", "app/models.py:22")
    assert done.returncode == 2 and "ANTHROPIC_API_KEY" in done.stderr and "Traceback" not in done.stderr


def test_implement_prints_new_files(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(view("app/main.py"))
    fake_api.reply(create("app/services/customers.py", SERVICE), create("app/routes/customers.py", ROUTE))
    fake_api.reply(str_replace("app/main.py", MAIN_BEFORE, MAIN_AFTER),
                   str_replace("app/main.py", INCLUDE_BEFORE, INCLUDE_AFTER))
    fake_api.reply(text("Added the customers list."))
    done = plumbline(shop, "implement", "GET /api/v1/customers: list customers", "--write")
    assert done.returncode == 0, done.stderr
    assert (shop / "app/routes/customers.py").read_text() == ROUTE
    assert "customers.router" in (shop / "app/main.py").read_text()
