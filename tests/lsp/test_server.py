"""The language server end to end: a real `plumbline serve` process over stdio, driven by pytest-lsp's client."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from tests.lsp.conftest import capabilities, session, uri

# ------------------------------------------------------------------------------------------- start-up


async def test_startup_publishes_every_file_with_findings_under_progress(shop: Path) -> None:
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3, what="the three files with findings")
        assert s.codes(shop / "app/models/orders.py") == ["DB003"]
        assert s.codes(shop / "app/routes/orders.py") == ["API001"]
        assert s.codes(shop / "alembic/versions/0002_audit.py") == ["DB003"]
        reports = next(iter(s.client.progress_reports.values()))
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert any(isinstance(r, types.WorkDoneProgressReport) and r.message and "/" in r.message for r in reports)


async def test_diagnostic_carries_source_code_and_fingerprint(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        (diagnostic,) = s.client.diagnostics[uri(models)]
        line = models.read_text().split("\n")[diagnostic.range.start.line]
        assert line.lstrip().startswith("customer_id")
        assert diagnostic.source == "plumbline"
        assert diagnostic.severity == types.DiagnosticSeverity.Warning
        assert diagnostic.data == {"fingerprint": "DB003:orders.customer_id"}


async def test_positions_follow_the_negotiated_encoding(shop: Path) -> None:
    models = shop / "app/models/orders.py"
    models.write_text(models.read_text().replace('mapped_column(ForeignKey("customers.id"))',
                                                 'mapped_column(ForeignKey("customers.id"), comment="👤é")'))
    ends = {}
    for encoding in ("utf-16", "utf-8", "utf-32"):
        caps = capabilities()
        caps.general = types.GeneralClientCapabilities(position_encodings=[encoding])
        async with session(shop, caps) as s:
            await s.until(lambda: s.codes(models) == ["DB003"])
            (diagnostic,) = s.client.diagnostics[uri(models)]
            ends[encoding] = diagnostic.range.end.character
    line = next(text for text in models.read_text().split("\n") if "customer_id" in text)
    assert line[ends["utf-32"] - 1] == ")"  # the declaration ends at the call's parenthesis
    assert ends["utf-16"] - ends["utf-32"] == 1  # 👤 is two UTF-16 code units
    assert ends["utf-8"] - ends["utf-32"] == 3 + 1  # 👤 is four bytes, é two


# ------------------------------------------------------------------------------------------- editing


async def test_removing_a_mixin_column_raises_db001_in_unopened_models(shop: Path) -> None:
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3)
        mixin = s.open(shop / "app/models/mixins.py")
        line = s.line_of(mixin, "created_at")
        original = s.texts[mixin].split("\n")[line]
        s.change(mixin, (line, 0), (line + 1, 0), "")
        await s.until(lambda: "DB001" in s.codes(shop / "app/models/products.py")
                      and "DB001" in s.codes(shop / "app/models/reviews.py"), what="DB001 in unopened models")
        s.change(mixin, (line, 0), (line, 0), original + "\n")
        await s.until(lambda: "DB001" not in s.codes(shop / "app/models/products.py")
                      and "DB001" not in s.codes(shop / "app/models/reviews.py"), what="DB001 cleared")


async def test_index_true_in_the_model_clears_db003_the_migration_would_carry(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        line = s.line_of(document, "customer_id")
        column = s.texts[document].split("\n")[line].index('("customers.id")') + len('("customers.id")')
        s.change(document, (line, column), (line, column), ", index=True")
        await s.until(lambda: s.codes(models) == [], what="DB003 cleared by index=True")


async def test_a_new_pagination_dependency_clears_api001_in_routes_using_it(shop: Path) -> None:
    async with session(shop) as s:
        routes = shop / "app/routes/orders.py"
        await s.until(lambda: s.codes(routes) == ["API001"])
        pagination = s.open(shop / "app/pagination.py")
        s.replace_line(pagination, 0, "def common_params(q: str | None = None, limit: int = 50, offset: int = 0)"
                                      " -> dict[str, str | None]:")
        await s.until(lambda: s.codes(routes) == [], what="API001 cleared in the unopened route file")


async def test_typing_republishes_the_edited_document_with_its_version(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        for character, letter in enumerate("# note"):
            s.change(document, (0, character), (0, character), letter)
        s.change(document, (0, 6), (0, 6), "\n")
        await s.until(lambda: [p.version for p in s.published if p.uri == document][-1:] == [s.versions[document]],
                      what="diagnostics for the last version")
        (diagnostic,) = s.client.diagnostics[document]
        assert s.texts[document].split("\n")[diagnostic.range.start.line].lstrip().startswith("customer_id")


# ------------------------------------------------------------------------------------------- code actions


async def test_quick_fix_adds_index_and_clears_the_diagnostic(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        line = s.line_of(document, "customer_id")
        actions = await s.actions(document, line)
        titles = [action.title for action in actions]
        assert titles[1:] == ["Ignore DB003 on this line", "Ignore DB003 in this file", "Fix DB003 with agent",
                              "Plumbline: fix all safe fixes"]
        fix = actions[0]
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        assert fix.edit is not None and fix.edit.document_changes is not None
        (change,) = fix.edit.document_changes
        assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1
        s.apply(fix.edit)
        assert "index=True" in s.texts[document].split("\n")[line]
        await s.until(lambda: s.codes(models) == [], what="DB003 cleared by the quick fix")


async def test_ignore_on_this_line_and_in_this_file(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        line = s.line_of(document, "customer_id")
        actions = {action.title: action for action in await s.actions(document, line)}
        s.apply(actions["Ignore DB003 on this line"].edit)  # type: ignore[arg-type]
        assert s.texts[document].split("\n")[line].endswith("# plumbline: ignore[DB003]")
        await s.until(lambda: s.codes(models) == [], what="suppressed on the line")

    async with session(shop) as s:
        audit = shop / "alembic/versions/0002_audit.py"
        await s.until(lambda: s.codes(audit) == ["DB003"])
        document = s.open(audit)
        line = s.line_of(document, "sa.ForeignKey")
        actions = {action.title: action for action in await s.actions(document, line)}
        s.apply(actions["Ignore DB003 in this file"].edit)  # type: ignore[arg-type]
        assert s.texts[document].startswith("# plumbline: ignore-file[DB003]\n")
        await s.until(lambda: s.codes(audit) == [], what="suppressed in the file")


async def test_migration_fix_creates_a_new_revision_file(shop: Path) -> None:
    async with session(shop) as s:
        audit = shop / "alembic/versions/0002_audit.py"
        await s.until(lambda: s.codes(audit) == ["DB003"])
        document = s.open(audit)
        actions = await s.actions(document, s.line_of(document, "sa.ForeignKey"))
        fix = actions[0]
        assert fix.is_preferred and fix.edit is not None and fix.edit.document_changes is not None
        create = fix.edit.document_changes[0]
        assert isinstance(create, types.CreateFile) and create.uri.startswith(uri(shop / "alembic/versions"))
        s.apply(fix.edit)
        created = Path(create.uri.removeprefix("file://"))
        assert "create_index" in created.read_text()
        await s.until(lambda: s.codes(audit) == [], what="DB003 cleared by the new revision")


async def test_no_create_file_fix_for_a_client_that_cannot_create_files(shop: Path) -> None:
    async with session(shop, capabilities(create_files=False)) as s:
        audit = shop / "alembic/versions/0002_audit.py"
        await s.until(lambda: s.codes(audit) == ["DB003"])
        document = s.open(audit)
        titles = [a.title for a in await s.actions(document, s.line_of(document, "sa.ForeignKey"), ["quickfix"])]
        assert titles == ["Ignore DB003 on this line", "Ignore DB003 in this file", "Fix DB003 with agent"]


async def test_fix_all_command_and_source_action(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        source = await s.actions(document, 0, only=["source.fixAll"])
        assert [action.kind for action in source] == ["source.fixAll.plumbline"]
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="plumbline.fixAll", arguments=[{"uri": document}]))
        assert result["applied"] is True and len(s.applied) == 1
        await s.until(lambda: s.codes(models) == [], what="fixed by fixAll")
        result = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="plumbline.fixAll", arguments=[{"uri": document}]))
        assert result["applied"] is False


async def test_fix_with_agent_is_a_command_that_answers(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        agent = [a for a in await s.actions(document, s.line_of(document, "customer_id")) if a.command][0]
        assert agent.command is not None and agent.command.command == "plumbline.fixWithAgent"
        assert list(agent.command.arguments or []) == [{"uri": document, "fingerprint": "DB003:orders.customer_id"}]
        assert agent.edit is None


# ------------------------------------------------------------------------------------------- hover, docs


async def test_hover_on_a_diagnostic_shows_the_rule_documentation(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        document = s.open(models)
        line = s.line_of(document, "customer_id")
        hover = await s.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=document), position=types.Position(line=line, character=8)))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "DB003" in hover.contents.value and "## Why it matters" in hover.contents.value
        nothing = await s.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=document), position=types.Position(line=0, character=0)))
        assert nothing is None


async def test_show_rule_docs_command(shop: Path) -> None:
    async with session(shop) as s:
        markdown = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="plumbline.showRuleDocs", arguments=[{"code": "API001"}]))
        assert markdown.startswith("### API001 `list-endpoint-without-pagination`")
        missing = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="plumbline.showRuleDocs", arguments=[{"code": "XYZ999"}]))
        assert missing is None
        await s.until(lambda: any("XYZ999" in m.message for m in s.client.messages))


# ------------------------------------------------------------------------------------------- outside changes


async def test_files_created_changed_and_deleted_on_disk(shop: Path) -> None:
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3)
        tags = shop / "app/models/tags.py"
        tags.write_text("from sqlalchemy.orm import Mapped, mapped_column\n\nfrom app.db import Base\n\n\n"
                        "class Tag(Base):\n    __tablename__ = \"tags\"\n\n"
                        "    id: Mapped[int] = mapped_column(primary_key=True)\n")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(tags), type=types.FileChangeType.Created)]))
        await s.until(lambda: "DB001" in s.codes(tags), what="DB001 on a new file")
        tags.unlink()
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(tags), type=types.FileChangeType.Deleted)]))
        await s.until(lambda: s.codes(tags) == [], what="cleared after the delete")
        # A folder deleted at once (a checkout): one event for the folder.
        versions = shop / "alembic/versions"
        for path in versions.iterdir():
            path.unlink()
        versions.rmdir()
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(versions), type=types.FileChangeType.Deleted)]))
        await s.until(lambda: s.codes(shop / "alembic/versions/0002_audit.py") == [], what="folder removed")


async def test_configuration_file_and_settings_changes(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        routes = shop / "app/routes/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        pyproject = shop / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + 'ignore = ["DB003"]\n')
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(pyproject), type=types.FileChangeType.Changed)]))
        await s.until(lambda: s.codes(models) == [] and s.codes(routes) == ["API001"], what="DB003 ignored")

        pyproject.write_text(pyproject.read_text() + "this is not toml = = =\n")
        s.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=uri(pyproject), type=types.FileChangeType.Changed)]))
        await s.until(lambda: any("invalid TOML" in m.message for m in s.client.messages), what="a config error")
        assert s.codes(routes) == ["API001"]  # the previous settings stay

        # Settings override `select` / `ignore` (an empty list overrides nothing), even while the file is broken.
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"plumbline": {"select": ["DB"], "ignore": []}}))
        await s.until(lambda: s.codes(routes) == [] and s.codes(models) == [], what="select DB only")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"plumbline": {"select": ["DB"], "ignore": ["API"]}}))
        await s.until(lambda: s.codes(models) == ["DB003"], what="the settings' ignore replaces the file's")


async def test_configuration_pulled_from_the_client(shop: Path) -> None:
    async with session(shop) as s:
        routes = shop / "app/routes/orders.py"
        await s.until(lambda: s.codes(routes) == ["API001"])
        s.client.set_configuration({"ignore": ["API001"]}, section="plumbline")
        s.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await s.until(lambda: s.codes(routes) == [], what="API001 ignored by the client's settings")


async def test_initialization_options_select(shop: Path) -> None:
    async with session(shop, options={"select": ["API"], "ignore": ["NOPE9"]}) as s:
        await s.until(lambda: s.codes(shop / "app/routes/orders.py") == ["API001"])
        await s.until(lambda: any("NOPE9" in m.message for m in s.client.messages), what="unknown code warning")
        assert s.codes(shop / "app/models/orders.py") == []


# ------------------------------------------------------------------------------------------- pull diagnostics


async def test_pull_diagnostics_and_refresh(shop: Path) -> None:
    async with session(shop, capabilities(pull=True)) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.client.diagnostic_refresh_count > 0, what="a refresh after the scan")
        report = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
        by_uri = {item.uri: item for item in report.items}
        assert set(by_uri) == {uri(models), uri(shop / "app/routes/orders.py"),
                               uri(shop / "alembic/versions/0002_audit.py")}
        document = s.open(models)
        pulled = await s.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=document)))
        assert [d.code for d in pulled.items] == ["DB003"]
        again = await s.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=document), previous_result_id=pulled.result_id))
        assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
        refreshes = s.client.diagnostic_refresh_count
        mixin = s.open(shop / "app/models/mixins.py")
        line = s.line_of(mixin, "created_at")
        s.change(mixin, (line, 0), (line + 1, 0), "")
        await s.until(lambda: s.client.diagnostic_refresh_count > refreshes, what="a refresh after a cross-file edit")
        report = await s.client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
        codes = {item.uri: [d.code for d in item.items] for item in report.items}
        assert codes[uri(shop / "app/models/products.py")] == ["DB001"]
        assert not s.client.diagnostics  # nothing pushed to a pull client


# ------------------------------------------------------------------------------------------- robustness


async def test_bad_input_never_takes_the_server_down(shop: Path, tmp_path: Path) -> None:
    (shop / "app/blob.py").write_bytes(b"\x00\x01\x02binary\xff\xfe" * 100)
    (shop / "app/latin1.py").write_bytes("name = 'caf\xe9'\n".encode("latin-1"))
    (shop / "app/deep.py").write_text("x = " + "(" * 3000 + ")" * 3000 + "\n")
    outside = tmp_path / "elsewhere" / "models.py"
    outside.parent.mkdir()
    outside.write_text((shop / "app/models/orders.py").read_text())
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3)
        broken = s.open(shop / "app/broken.py", "class Order(Base:\n    id = mapped_column(\n")
        huge = s.open(shop / "app/huge.py", "x = 1\n" * 400_000)
        s.open(outside)
        s.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri="untitled:Untitled-1", language_id="python", version=1, text="class A(:\n")))
        s.change(broken, (5, 0), (9, 3), "???")  # a range past the end of the text
        s.change(huge, (0, 0), (0, 0), "y = 2\n")
        # The file outside every folder is checked on its own (DB003 needs no other file).
        await s.until(lambda: "DB003" in s.codes(outside), what="the file outside the workspace")
        hover = await s.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="untitled:Untitled-1"),
            position=types.Position(line=0, character=0)))
        assert hover is None
        assert s.codes(shop / "app/models/orders.py") == ["DB003"]
        s.close(uri(outside))
        await s.until(lambda: s.codes(outside) == [], what="cleared when the outside file closes")


async def test_multi_root_workspace(shop: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "app").mkdir(parents=True)
    (other / "pyproject.toml").write_text("[tool.plumbline]\ndatabase = \"sqlite\"\n")
    (other / "app/__init__.py").write_text("")
    (other / "app/models.py").write_text(
        "from sqlalchemy import Column, ForeignKey, Integer\nfrom sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\nclass Item(Base):\n    __tablename__ = \"items\"\n"
        "    id = Column(Integer, primary_key=True)\n    owner_id = Column(Integer, ForeignKey(\"owners.id\"))\n")
    async with session(shop, folders=[shop, other]) as s:
        await s.until(lambda: "DB003" in s.codes(other / "app/models.py") and
                      s.codes(shop / "app/models/orders.py") == ["DB003"], what="findings of both roots")


async def test_shutdown_is_clean(shop: Path) -> None:
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3)
        server = s.client._server
    assert server is not None and server.returncode == 0
