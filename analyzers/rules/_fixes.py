"""Building blocks for deterministic fixes: imports a fix needs, timestamp columns in each framework's idiom,
new Alembic revisions. Rules call these with what the model tells them; nothing here reads syntax."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from analyzers.model import CreateFile, Location, Project, Span, Table, TableDeclaration, TextEdit


@dataclass
class ImportPlanner:
    """Names a fix uses, spelled the way the file already imports them, and the imports it must add."""

    path: str
    file_imports: dict[str, str]
    imports_line: int
    missing: dict[str, list[str]] = field(default_factory=dict)  # module -> names to import

    def name(self, qualified: str) -> str:
        """How to refer to `qualified` (e.g. "sqlalchemy.DateTime") in this file."""
        for local, target in self.file_imports.items():
            if target == qualified and "." not in local:
                return local
        module, _, attribute = qualified.rpartition(".")
        for local, target in self.file_imports.items():
            if target == module and "." not in local:
                return f"{local}.{attribute}"
        if attribute in self.file_imports:  # the bare name means something else here: import the module
            alias = module.rsplit(".", 1)[-1]
            self.missing.setdefault(f"import {module}", [])
            return f"{alias}.{attribute}" if alias == module else f"{module}.{attribute}"
        self.missing.setdefault(module, [])
        if attribute not in self.missing[module]:
            self.missing[module].append(attribute)
        return attribute

    def module(self, module: str) -> str:
        """How to refer to a module (e.g. "django.db.models" → "models")."""
        for local, target in self.file_imports.items():
            if target == module and "." not in local:
                return local
        parent, _, last = module.rpartition(".")
        if last not in self.file_imports:
            self.missing.setdefault(parent, [])
            if last not in self.missing[parent]:
                self.missing[parent].append(last)
            return last
        self.missing.setdefault(f"import {module}", [])
        return module

    def edits(self) -> list[TextEdit]:
        lines: list[str] = []
        for module, names in self.missing.items():
            if module.startswith("import "):
                lines.append(f"{module}\n")
            elif names:
                lines.append(f"from {module} import {', '.join(sorted(names))}\n")
        if not lines:
            return []
        at = Span.at(self.imports_line, 0)
        return [TextEdit(self.path, at, "".join(lines))]


def planner_for(declaration: TableDeclaration) -> ImportPlanner:
    return ImportPlanner(declaration.location.path, declaration.file_imports, declaration.imports_line)


TIMESTAMP_KINDS = ("created", "updated")


def model_timestamp_line(declaration: TableDeclaration, column: str, kind: str,
                         planner: ImportPlanner) -> str | None:
    """A model field line that fills `column` on insert (kind "created") or on every update ("updated")."""
    style = declaration.idiom.get("style", "")
    indent = declaration.body_indent
    if style == "django":
        models = planner.module("django.db.models")
        option = "auto_now_add=True" if kind == "created" else "auto_now=True"
        return f"{indent}{column} = {models}.DateTimeField({option})\n"
    if style == "flask":
        db = declaration.idiom.get("prefix", "db.")
        update = f", onupdate={db}func.now()" if kind == "updated" else ""
        return (f"{indent}{column} = {db}Column({db}DateTime(timezone=True), server_default={db}func.now()"
                f"{update}, nullable=False)\n")
    if style in ("classic", "mapped"):
        column_type = planner.name("sqlalchemy.DateTime")
        func = planner.name("sqlalchemy.func")
        update = f", onupdate={func}.now()" if kind == "updated" else ""
        if style == "classic":
            column_call = planner.name("sqlalchemy.Column")
            return (f"{indent}{column} = {column_call}({column_type}(timezone=True), "
                    f"server_default={func}.now(){update}, nullable=False)\n")
        mapped = planner.name("sqlalchemy.orm.Mapped")
        mapped_column = planner.name("sqlalchemy.orm.mapped_column")
        datetime_type = planner.name("datetime.datetime")
        return (f"{indent}{column}: {mapped}[{datetime_type}] = {mapped_column}({column_type}(timezone=True), "
                f"server_default={func}.now(){update})\n")
    if style == "sqlmodel":
        field_call = planner.name("sqlmodel.Field")
        column_call = planner.name("sqlalchemy.Column")
        column_type = planner.name("sqlalchemy.DateTime")
        func = planner.name("sqlalchemy.func")
        datetime_type = planner.name("datetime.datetime")
        update = f", onupdate={func}.now()" if kind == "updated" else ""
        return (f"{indent}{column}: {datetime_type} | None = {field_call}(default=None, sa_column={column_call}("
                f"{column_type}(timezone=True), server_default={func}.now(){update}, nullable=False))\n")
    return None


def sql_timestamp_column(project: Project, column: str, kind: str) -> str | None:
    dialect = project.dialect or "postgresql"
    if dialect in ("mysql", "mariadb"):
        update = " ON UPDATE CURRENT_TIMESTAMP" if kind == "updated" else ""
        return f"{column} DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP{update}"
    if dialect == "postgresql" or dialect == "cockroachdb":
        return f"{column} timestamptz NOT NULL DEFAULT now()"
    return None  # SQLite cannot ADD COLUMN with a non-constant default


def sql_identifier(name: str, dialect: str | None) -> str:
    """`name` as SQL must spell it: bare when it is a plain lower-case identifier, quoted otherwise (unquoted
    identifiers fold to lower case, so `paymentId` would name another column)."""
    if name.isascii() and name.replace("_", "a").isalnum() and name == name.lower() and not name[:1].isdigit():
        return name
    if dialect in ("mysql", "mariadb"):
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


_NOT_ALPHANUMERIC = re.compile(r"[\W_]")  # what str.isalnum() rejects


def revision_id(seed: str) -> str:
    return hashlib.blake2b(seed.encode(), digest_size=6).hexdigest()


def new_alembic_revision(project: Project, seed: str, message: str, upgrade: list[str],
                         downgrade: list[str], declaration: TableDeclaration | None = None) -> CreateFile | None:
    """A new revision file after the current head, in the project's versions folder (or, for a table a
    migration declares, in the folder of that migration's own history: a project may keep several)."""
    settings = project.settings
    if declaration is not None and declaration.framework != "alembic":
        return None  # a Django migration or a model: not a table an Alembic revision should alter
    if declaration is not None and "alembic.versions" in declaration.idiom:
        settings = declaration.idiom
    versions = settings.get("alembic.versions")
    if not versions:
        return None
    head = settings.get("alembic.head")
    heads = [item.strip() for item in settings.get("alembic.heads", "").split(",") if item.strip()]
    revision = revision_id(seed)
    slug = "_".join(_NOT_ALPHANUMERIC.sub(" ", message.lower()).split())[:40]
    if len(heads) > 1:  # several heads: the new revision merges them instead of adding one more
        down = "(" + ", ".join(f'"{item}"' for item in heads) + ")"
        head = ", ".join(heads)
    else:
        down = f'"{head}"' if head else "None"
    body_up = "\n".join(f"    {line}" for line in upgrade) or "    pass"
    body_down = "\n".join(f"    {line}" for line in downgrade) or "    pass"
    text = (
        f'"""{message}\n\nRevision ID: {revision}\nRevises: {head or ""}\n"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f'revision = "{revision}"\n'
        f"down_revision = {down}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        f"def upgrade() -> None:\n{body_up}\n\n\n"
        f"def downgrade() -> None:\n{body_down}\n"
    )
    return CreateFile(f"{versions.rstrip('/')}/{revision}_{slug}.py", text)


def declaration_at(table: Table, location: Location | None) -> TableDeclaration | None:
    """The declaration of `table` in the file of `location` (model over migration over SQL)."""
    if location is None:
        return table.primary
    for kind in ("model", "migration", "sql"):
        for declaration in table.declarations:
            if declaration.kind == kind and declaration.location.path == location.path:
                return declaration
    return table.primary


def looks_like_sql_migration(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return "migration" in path.lower() or name[:1].isdigit() or name[:2].upper() == "V1" or (
        name[:1] in "Vv" and name[1:2].isdigit())
