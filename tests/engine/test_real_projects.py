"""Regressions found by running Plumbline on real projects (Prefect, MLflow, pretix; see docs/real-projects.md)
that no fixture finding shows: notes, the detected database, module names, where a fix writes."""

from __future__ import annotations

import textwrap
from pathlib import Path

from analyzers.config import load_config
from analyzers.discovery import module_name, source_roots
from analyzers.engine import Workspace
from analyzers.extractors import dialect
from analyzers.model import Project
from analyzers.rules.db003_foreign_key_without_index import RULE as DB003
from analyzers.rules.db003_foreign_key_without_index import Options as DB003Options

REVISION = '''
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down}


def upgrade():
{body}


def downgrade():
    pass
'''


def revision(revision_id: str, down: str | None, body: str = "pass") -> str:
    return REVISION.format(revision=revision_id, down=f'"{down}"' if down else "None",
                           body=textwrap.indent(textwrap.dedent(body).strip("\n"), "    "))


def build(root: Path, files: dict[str, str]) -> Project:
    files = {"pyproject.toml": "[project]\nname = 'x'\n", **files}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


# --------------------------------------------------------------------------------------------- Alembic


def test_histories_in_separate_folders_are_separate_even_with_shared_revision_ids(tmp_path: Path) -> None:
    """Prefect keeps a PostgreSQL and a SQLite history whose revisions share ids: neither has several heads."""
    files = {}
    for folder in ("postgresql", "sqlite"):
        files[f"db/versions/{folder}/a.py"] = revision("a1", None)
        files[f"db/versions/{folder}/b.py"] = revision("b2", "a1")
        files[f"db/versions/{folder}/c.py"] = revision(f"c3{folder[:2]}", "b2")
    project = build(tmp_path, files)
    assert not [note for note in project.notes if "heads" in note], project.notes
    assert "alembic.heads" not in project.settings


def test_a_fix_for_a_migration_table_continues_that_tables_own_history(tmp_path: Path) -> None:
    """MLflow has a tracking and an auth database, each with its own Alembic folder."""
    project = build(tmp_path, {
        "tracking/versions/t1.py": revision("t1", None, 'op.create_table("runs", sa.Column("id", sa.Integer(), '
                                                         'primary_key=True))'),
        "tracking/versions/t2.py": revision("t2", "t1"),
        "tracking/versions/t3.py": revision("t3", "t2"),
        "auth/versions/u1.py": revision("u1", None, '''
            op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))
            op.create_table(
                "grants",
                sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
            )
        '''),
    })
    assert project.settings["alembic.versions"] == "tracking/versions"  # the bigger history
    findings = list(DB003.check(project, DB003Options()))
    assert [finding.fingerprint for finding in findings] == ["DB003:grants.user_id"]
    fix = findings[0].fix
    assert fix is not None and len(fix.creates) == 1
    created = fix.creates[0]
    assert created.path.startswith("auth/versions/")
    assert 'down_revision = "u1"' in created.text


# --------------------------------------------------------------------------------------------- modules


def test_alembic_ini_inside_a_package_starts_no_import_root() -> None:
    paths = ["pyproject.toml", "app/__init__.py", "app/db/__init__.py", "app/db/alembic.ini", "app/db/models.py",
             "backend/alembic.ini", "backend/app/models.py"]
    roots = source_roots(paths)
    assert "app/db" not in roots and "backend" in roots
    assert module_name("app/db/models.py", roots) == "app.db.models"
    assert module_name("backend/app/models.py", roots) == "app.models"


# --------------------------------------------------------------------------------------------- database


def test_a_constant_naming_supported_engines_is_no_django_engine(tmp_path: Path) -> None:
    """MLflow's `DATABASE_ENGINES = [POSTGRES, MYSQL, SQLITE, MSSQL]` is no `"ENGINE": "mssql"`."""
    project = build(tmp_path, {
        "store/db_types.py": '''
            MSSQL = "mssql"
            DATABASE_ENGINES = [MSSQL]
        ''',
        "requirements.txt": "psycopg2-binary\n",
    })
    assert project.dialect == "postgresql"
    project = build(tmp_path / "django", {
        "site/settings.py": 'DATABASES = {"default": {"ENGINE": "mssql", "NAME": "x"}}\n',
    })
    assert project.dialect == "mssql"


def test_types_of_several_databases_alone_name_no_database(tmp_path: Path) -> None:
    chosen = dialect.choose([
        dialect.DialectHint("mysql", dialect.SYNTAX_LEVEL, "a", "a.py", 0),
        dialect.DialectHint("mysql", dialect.SYNTAX_LEVEL, "b", "b.py", 0),
        dialect.DialectHint("postgresql", dialect.SYNTAX_LEVEL, "c", "c.py", 0),
    ])
    assert chosen is None
    project = build(tmp_path, {
        "models.py": "from sqlalchemy.dialects.mysql import MEDIUMTEXT\n",
        "store.py": "from sqlalchemy.dialects.postgresql import insert\n",
    })
    assert project.dialect is None
    assert any("not detected" in note for note in project.notes), project.notes


def test_a_handler_served_under_two_paths_is_reported_once(tmp_path: Path) -> None:
    # MLflow registers each auth view under a REST path and an AJAX path: one thing to fix, one finding.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.plumbline]\nselect = ["API001"]\n')
    (tmp_path / "server.py").write_text(textwrap.dedent("""
        from flask import Flask

        from store import User


        def list_users():
            return {"users": [user.name for user in User.query.all()]}


        def create_app():
            app = Flask(__name__)
            for rule in ["/api/2.0/users/list", "/ajax-api/2.0/users/list"]:
                app.add_url_rule(rule=rule, view_func=list_users, methods=["GET"])
            return app
    """))
    (tmp_path / "store.py").write_text("from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n\n\n"
                                       "class User(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
                                       "    name = db.Column(db.String(80))\n")
    workspace = Workspace(tmp_path, load_config(tmp_path))
    workspace.scan()
    result = workspace.check()
    assert len(result.project.endpoints) == 2
    [finding] = [finding for findings in result.findings.values() for finding in findings]
    assert finding.code == "API001" and "(also GET /" in finding.message


def test_a_mixin_column_in_two_tables_with_one_fix_is_one_finding_naming_both(tmp_path: Path) -> None:
    # FlaskBB's HideableMixin: `hidden_by_id` with a foreign key, in posts and topics; `index=True` on the
    # mixin's column fixes both.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.plumbline]\nselect = ["DB003"]\n'
                                             'database = "postgresql"\n')
    (tmp_path / "models.py").write_text(textwrap.dedent("""
        from sqlalchemy import Column, ForeignKey, Integer
        from sqlalchemy.orm import declarative_base

        Base = declarative_base()


        class HideableMixin:
            hidden_by_id = Column(Integer, ForeignKey("users.id"))


        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)


        class Post(HideableMixin, Base):
            __tablename__ = "posts"
            id = Column(Integer, primary_key=True)


        class Topic(HideableMixin, Base):
            __tablename__ = "topics"
            id = Column(Integer, primary_key=True)
            owner_id = Column(Integer, ForeignKey("users.id"))
    """))
    workspace = Workspace(tmp_path, load_config(tmp_path))
    workspace.scan()
    messages = sorted(finding.message for finding in workspace.check().all_findings())
    assert len(messages) == 2, messages
    assert "(also topics.hidden_by_id)" in messages[0] and "topics.owner_id" in messages[1]


def test_merged_findings_name_the_others_by_what_they_are_about() -> None:
    from analyzers.engine import _subject

    assert _subject("API003:POST /api/v1/shares/:location") == "POST /api/v1/shares/"  # Langflow
    assert _subject("DB003:topics.hidden_by_id") == "topics.hidden_by_id"
    assert _subject("API001:GET /files/{path:path}#2") == "GET /files/{path:path}"
