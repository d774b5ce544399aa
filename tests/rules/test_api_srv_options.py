"""Options of the API and server rules change what they report, through the project's own configuration."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from analyzers.config import load_config
from analyzers.engine import Workspace

FIXTURES = Path(__file__).parent.parent / "fixtures"


def findings(root: Path, config: str, files: dict[str, str]) -> list[tuple[str, int, str]]:
    (root / "pyproject.toml").write_text(textwrap.dedent(config).lstrip())
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    result = workspace.check()
    assert not result.failures, result.failures
    return sorted((f.location.path, f.location.line + 1, f.code) for f in result.all_findings())


APP = """
from fastapi import FastAPI, Request

app = FastAPI()

@app.get("/orders")
def list_orders(version: str = "1"):
    return []

@app.get("/customers")
def list_customers():
    return []

@app.delete("/orders/{order_id}")
def delete_order(order_id: int) -> dict:
    return {"id": order_id, "reference": load(order_id)}
"""


def test_api002_header_style_asks_for_one_version_header(tmp_path: Path) -> None:
    config = """
        [tool.plumbline]
        select = ["API002"]
        [tool.plumbline.rules.API002]
        style = "header"
    """
    assert findings(tmp_path, config, {"main.py": APP}) == [("main.py", 3, "API002")]


def test_api002_query_style_reports_routes_without_a_version_parameter(tmp_path: Path) -> None:
    config = """
        [tool.plumbline]
        select = ["API002"]
        [tool.plumbline.rules.API002]
        style = "query"
    """
    assert findings(tmp_path, config, {"main.py": APP}) == [("main.py", 10, "API002"), ("main.py", 14, "API002")]


def test_api002_exempt_words_are_configurable(tmp_path: Path) -> None:
    config = """
        [tool.plumbline]
        select = ["API002"]
        [tool.plumbline.rules.API002]
        exempt = ["orders", "customers"]
    """
    assert findings(tmp_path, config, {"main.py": APP}) == []


def test_api004_flag_representations(tmp_path: Path) -> None:
    default = """
        [tool.plumbline]
        select = ["API004"]
    """
    assert findings(tmp_path, default, {"main.py": APP}) == []
    strict = default + """
        [tool.plumbline.rules.API004]
        flag-representations = true
    """
    assert findings(tmp_path, strict, {"main.py": APP}) == [("main.py", 14, "API004")]


def test_srv003_require_middleware_off_reports_a_bare_app(tmp_path: Path) -> None:
    default = """
        [tool.plumbline]
        select = ["SRV003"]
    """
    assert findings(tmp_path, default, {"main.py": APP}) == []
    strict = default + """
        [tool.plumbline.rules.SRV003]
        require-middleware = false
    """
    assert findings(tmp_path, strict, {"main.py": APP}) == [("main.py", 3, "SRV003")]


def test_srv004_public_paths_are_configurable(tmp_path: Path) -> None:
    files = {"main.py": """
        from fastapi import Depends, FastAPI
        from app_auth import get_current_user

        app = FastAPI()

        @app.post("/orders")
        def create_order(user=Depends(get_current_user)):
            return {}

        @app.put("/orders/{order_id}")
        def update_order(order_id: int, user=Depends(get_current_user)):
            return {}

        @app.post("/contact")
        def contact():
            return save_contact_request()
    """}
    default = """
        [tool.plumbline]
        select = ["SRV004"]
    """
    assert findings(tmp_path, default, files) == [("main.py", 15, "SRV004")]
    relaxed = default + """
        [tool.plumbline.rules.SRV004]
        public-paths = ["contact"]
    """
    assert findings(tmp_path, relaxed, files) == []


def test_srv006_strict_reports_the_deliberate_handlers_of_the_fixture(tmp_path: Path) -> None:
    """The handlers srv_code_errors leaves unreported (fallbacks, nested, parsing, no request or job) are broad
    handlers that neither log nor re-raise: `strict` reports them, `backend-path-only = false` only the swallow
    that no request or job runs."""
    shutil.copytree(FIXTURES / "srv_code_errors", tmp_path, dirs_exist_ok=True)
    default = {(path, line) for path, line, _ in findings(tmp_path, '[tool.plumbline]\nselect = ["SRV006"]', {})}
    strict = """
        [tool.plumbline]
        select = ["SRV006"]
        [tool.plumbline.rules.SRV006]
        strict = true
    """
    deliberate = {("app/services/inventory.py", line) for line in (28, 66, 74, 82, 95, 103, 111, 140, 156)}
    deliberate |= {("app/tasks.py", 19), ("app/tasks.py", 26), ("shop/views.py", 29)}
    assert {(path, line) for path, line, _ in findings(tmp_path, strict, {})} == default | deliberate
    anywhere = strict.replace("strict = true", "backend-path-only = false")
    assert {(path, line) for path, line, _ in findings(tmp_path, anywhere, {})} == \
        default | {("app/services/inventory.py", 156)}
