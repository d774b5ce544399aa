"""Resolve steps reused between checks (`ModelBuilder.reusable`, FastAPI's endpoints): reused after edits they
cannot see, computed again after every edit they can — in the file of the route, of a dependency it follows,
or a file that appears where an import found nothing before."""

from __future__ import annotations

from pathlib import Path

from analyzers.config import Config
from analyzers.engine import Workspace
from analyzers.rules.db001_table_without_created_at import Options as DB001_OPTIONS
from tests.projects import write

MAIN = '''
from fastapi import APIRouter, Depends

from app.db import Item, get_db
from app.paging import Page

router = APIRouter(prefix="/items")


@router.get("/")
def list_items(page: Page = Depends(), db=Depends(get_db)) -> list[dict]:
    return [{"id": item.id} for item in db.query(Item).all()]
'''
DB = '''
from sqlalchemy import Column, DateTime, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def get_db():
    yield None


class Item(Base):
    __tablename__ = "items"
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime)
    updated_at = Column(DateTime)
'''
PAGE_WITHOUT_LIMITS = '''
class Page:
    def __init__(self, sort: str = "id"):
        self.sort = sort
'''
PAGE_WITH_LIMITS = '''
class Page:
    def __init__(self, limit: int = 50, offset: int = 0):
        self.limit = limit
        self.offset = offset
'''


def _workspace(root: Path, files: dict[str, str]) -> Workspace:
    write(root, {"pyproject.toml": '[tool.plumbline]\nselect = ["API001", "DB001"]\n', **files})
    workspace = Workspace(root, Config(select=["API001", "DB001"]))
    workspace.scan()
    return workspace


def _codes(workspace: Workspace, path: str) -> list[str]:
    return [finding.code for finding in workspace.check(fresh=True).findings.get(path, [])]


def _edit(workspace: Workspace, path: str, text: str) -> None:
    (workspace.root / path).write_text(text, encoding="utf-8")
    workspace.update_file(path, text.encode())


def test_an_edit_the_endpoints_cannot_see_reuses_them(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB, "app/paging.py": PAGE_WITHOUT_LIMITS,
                                      "app/other.py": "X = 1\n"})
    before = workspace.check(fresh=True).project.endpoints
    _edit(workspace, "app/other.py", "X = 2\n")
    after = workspace.check(fresh=True).project.endpoints
    assert before and [id(endpoint) for endpoint in after] == [id(endpoint) for endpoint in before]


def test_an_edit_to_a_dependency_in_another_module_reaches_the_endpoint(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB, "app/paging.py": PAGE_WITHOUT_LIMITS})
    assert _codes(workspace, "app/main.py") == ["API001"]
    _edit(workspace, "app/paging.py", PAGE_WITH_LIMITS)
    assert _codes(workspace, "app/main.py") == []
    _edit(workspace, "app/paging.py", PAGE_WITHOUT_LIMITS)
    assert _codes(workspace, "app/main.py") == ["API001"]


def test_a_module_that_appears_where_an_import_found_nothing_reaches_the_endpoint(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB})
    assert _codes(workspace, "app/main.py") == []  # Page from outside the workspace: it may well paginate
    _edit(workspace, "app/paging.py", PAGE_WITHOUT_LIMITS)
    assert _codes(workspace, "app/main.py") == ["API001"]  # now it is known, and it does not
    workspace.remove_file("app/paging.py")
    assert _codes(workspace, "app/main.py") == []


def test_an_edit_to_the_route_itself_reaches_the_endpoint(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB, "app/paging.py": PAGE_WITHOUT_LIMITS})
    assert _codes(workspace, "app/main.py") == ["API001"]
    _edit(workspace, "app/main.py", MAIN.replace("page: Page = Depends(), ", "limit: int = 20, offset: int = 0, "))
    assert _codes(workspace, "app/main.py") == []


def test_forgetting_kept_steps_builds_new_endpoints(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB, "app/paging.py": PAGE_WITHOUT_LIMITS})
    before = workspace.check(fresh=True).project.endpoints
    workspace.forget_kept()
    after = workspace.check(fresh=True).project.endpoints
    assert after == before and all(new is not old for new, old in zip(after, before, strict=True))


# --------------------------------------------------------------------------------------------- rules

HELPER = '''
def describe(item):
    return str(item.id)
'''
MAIN_WITH_HELPER = MAIN.replace("from app.paging import Page",
                                "from app.helpers import describe\nfrom app.paging import Page")
MAIN_WITH_HELPER = MAIN_WITH_HELPER.replace('return [{"id": item.id}', 'return [{"id": describe(item)}')


def _findings(workspace: Workspace, path: str, code: str) -> list[object]:
    return [finding for finding in workspace.check(fresh=True).findings.get(path, []) if finding.code == code]


def test_a_rule_reading_nothing_an_edit_changed_keeps_its_findings(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": DB, "app/paging.py": PAGE_WITHOUT_LIMITS})
    [api_before] = _findings(workspace, "app/main.py", "API001")
    _edit(workspace, "app/db.py", DB.replace("    created_at = Column(DateTime)\n", ""))  # tables change
    result = workspace.check(fresh=True)
    [api_after] = [finding for finding in result.findings["app/main.py"] if finding.code == "API001"]
    assert api_after is api_before  # the endpoints are what they were: API001 did not run again
    assert [finding.code for finding in result.findings["app/db.py"]] == ["DB001"]  # DB001 did


def test_a_rule_asking_for_a_derived_value_sees_an_edit_to_what_it_was_derived_from(tmp_path: Path) -> None:
    """SRV007 reads `request_path()`, derived from endpoints and functions: a helper that starts to print is on
    a request's path."""
    files = {"app/main.py": MAIN_WITH_HELPER, "app/db.py": DB, "app/paging.py": PAGE_WITH_LIMITS,
             "app/helpers.py": HELPER}
    write(tmp_path, files)
    workspace = Workspace(tmp_path, Config(select=["SRV007", "QRY005", "API001"]))
    workspace.scan()
    assert _findings(workspace, "app/helpers.py", "SRV007") == []
    _edit(workspace, "app/helpers.py", HELPER.replace("    return", "    print(item)\n    return"))
    assert len(_findings(workspace, "app/helpers.py", "SRV007")) == 1
    _edit(workspace, "app/helpers.py", HELPER)
    assert _findings(workspace, "app/helpers.py", "SRV007") == []


def test_new_options_run_the_rule_again(tmp_path: Path) -> None:
    without_created_at = DB.replace("    created_at = Column(DateTime)\n", "")
    workspace = _workspace(tmp_path, {"app/main.py": MAIN, "app/db.py": without_created_at,
                                      "app/paging.py": PAGE_WITHOUT_LIMITS})
    assert len(_findings(workspace, "app/db.py", "DB001")) == 1
    workspace.config = Config(select=["API001", "DB001"],
                              rule_options={"DB001": DB001_OPTIONS(names=["created_at", "updated_at"])})
    assert _findings(workspace, "app/db.py", "DB001") == []
