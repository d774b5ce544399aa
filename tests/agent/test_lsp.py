"""The agent over LSP: a real `plumbline serve` process, pytest-lsp's client and the fake Messages API.

Done means: "Fix with agent" on a DB003 finding yields one previewable edit that clears it; an edit that does
not fix the finding is caught, sent back and repaired, and only the repaired edit reaches the editor; an attempt
to read `.env` is refused and the secret never leaves the machine.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.agent.conftest import SECRET_VALUES
from tests.agent.fake_api import FakeMessagesAPI, create, str_replace, text, view
from tests.agent.helpers import FK_FIXED, FK_LINE
from tests.agent.test_implement import INCLUDE_AFTER, INCLUDE_BEFORE, MAIN_AFTER, MAIN_BEFORE, ROUTE, SERVICE
from tests.lsp.conftest import Session, capabilities, session, uri

FIX = "plumbline.fixWithAgent"
IMPLEMENT = "plumbline.implementEndpoint"


async def db003_action(s: Session, models: Path) -> types.Command:
    await s.until(lambda: s.codes(models) == ["DB003"], what="DB003 on the model")
    line = s.client.diagnostics[uri(models)][0].range.start.line
    actions = await s.actions(uri(models), line)
    action = next(action for action in actions if action.title == "Fix DB003 with agent")
    assert action.command is not None and action.edit is None  # a command: nothing computed in codeAction
    return action.command


async def execute(s: Session, command: str, argument: dict[str, Any]) -> Any:
    return await s.client.workspace_execute_command_async(types.ExecuteCommandParams(command=command,
                                                                                     arguments=[argument]))


def agent_progress(s: Session) -> list[Any]:
    for reports in s.client.progress_reports.values():
        if reports and isinstance(reports[0], types.WorkDoneProgressBegin) and \
                reports[0].title.startswith("Plumbline agent"):
            return reports
    raise AssertionError("no agent progress")


async def test_fix_with_agent_clears_db003_with_one_previewable_edit(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(text("Viewing the model."), view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Indexed orders.customer_id."))
    models = shop / "app/models.py"
    async with session(shop) as s:
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["applied"] is True and "tokens" in result["message"]
        (edit,) = s.applied
        (document_edit,) = edit.document_changes
        assert isinstance(document_edit, types.TextDocumentEdit)
        assert document_edit.text_document.uri == uri(models)
        (text_edit,) = document_edit.edits
        assert text_edit.range.start.line == 21 and text_edit.new_text == FK_FIXED  # one minimal hunk
        await s.until(lambda: s.codes(models) == [], what="DB003 cleared")
        reports = agent_progress(s)
        assert reports[0].cancellable is True
        assert any(isinstance(r, types.WorkDoneProgressReport) and "reading app/models.py" in (r.message or "")
                   for r in reports)
        assert any(isinstance(r, types.WorkDoneProgressReport) and r.message == "verifying" for r in reports)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "read from cache" in reports[-1].message


async def test_a_wrong_edit_is_repaired_and_only_the_repair_reaches_the_editor(fake_api: FakeMessagesAPI,
                                                                               shop: Path) -> None:
    wrong = FK_LINE.replace("nullable=False", "nullable=True")
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, wrong))
    fake_api.reply(text("Made it nullable."))
    fake_api.reply(view("app/models.py", view_range=[20, 23]))
    fake_api.reply(str_replace("app/models.py", wrong, FK_FIXED))
    fake_api.reply(text("Indexed it instead."))
    models = shop / "app/models.py"
    async with session(shop) as s:
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["applied"] is True
        repair = fake_api.requests[3].body["messages"][-1]["content"][0]["text"]
        assert "still reported" in repair and "app/models.py:22" in repair
        (edit,) = s.applied
        new_texts = [e.new_text for change in edit.document_changes for e in change.edits]
        assert new_texts == [FK_FIXED]
        await s.until(lambda: s.codes(models) == [], what="DB003 cleared")


async def test_reading_dotenv_is_refused_and_the_secret_never_leaves(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(view(".env"))
    fake_api.reply(tool_search := _search("hunter2|STRIPE"))
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Done."))
    del tool_search
    models = shop / "app/models.py"
    async with session(shop) as s:
        env = s.open(shop / ".env", language="dotenv")  # even an open buffer is not read
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["applied"] is True
        first_result = fake_api.requests[1].body["messages"][-1]["content"][0]
        assert first_result["is_error"] is True and "Refused" in first_result["content"][0]["text"]
        sent = fake_api.sent_text()
        assert not any(secret in sent for secret in SECRET_VALUES)
        assert "test-key" not in sent
        assert env not in [change.text_document.uri for change in s.applied[0].document_changes]


def _search(pattern: str) -> dict[str, Any]:
    from tests.agent.fake_api import tool

    return tool("search_workspace", pattern=pattern)


async def test_a_user_edit_elsewhere_is_kept_and_the_change_re_anchored(fake_api: FakeMessagesAPI,
                                                                         shop: Path) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Indexed it."), delay=0.4)
    models = shop / "app/models.py"
    async with session(shop) as s:
        document = s.open(models)
        command = await db003_action(s, models)
        job = asyncio.ensure_future(execute(s, command.command, command.arguments[0]))
        await s.until(lambda: len(fake_api.requests) >= 3, what="the last turn")
        s.change(document, (0, 0), (0, 0), "# orders and customers\n")
        result = await job

        assert result["applied"] is True
        (edit,) = s.applied
        (document_edit,) = edit.document_changes
        assert document_edit.text_document.version == 2  # the user's version, not the snapshot's
        assert document_edit.edits[0].range.start.line == 22
        assert s.texts[document].startswith("# orders and customers\n") and FK_FIXED in s.texts[document]


async def test_a_user_edit_of_the_same_lines_stops_the_job(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Indexed it."), delay=0.4)
    models = shop / "app/models.py"
    async with session(shop) as s:
        document = s.open(models)
        command = await db003_action(s, models)
        job = asyncio.ensure_future(execute(s, command.command, command.arguments[0]))
        await s.until(lambda: len(fake_api.requests) >= 3, what="the last turn")
        s.replace_line(document, 21, FK_LINE.rstrip("\n").replace("nullable=False", "nullable=False, comment='x'"))
        result = await job

        assert result["applied"] is False and result["kind"] == "conflict"
        assert s.applied == []
        assert any("changed while the agent worked" in message.message for message in s.client.messages)


async def test_cancelling_the_progress_cancels_the_job_mid_stream(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(text("a long and slow reply " * 4), view("app/models.py"), delay=0.5)
    models = shop / "app/models.py"
    async with session(shop) as s:
        command = await db003_action(s, models)
        job = asyncio.ensure_future(execute(s, command.command, command.arguments[0]))
        await s.until(lambda: len(fake_api.requests) == 1, what="the request")
        await asyncio.sleep(0.3)
        token = next(token for token, reports in s.client.progress_reports.items()
                     if reports and getattr(reports[0], "title", "").startswith("Plumbline agent"))
        s.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(job, 5)

        assert result == {"applied": False, "message": "Cancelled; nothing was applied."}
        assert s.applied == [] and len(fake_api.requests) == 1
        assert "Cancelled" in s.client.progress_reports[token][-1].message


async def test_implement_endpoint_creates_files_behind_a_confirmation(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(view("app/main.py"))
    fake_api.reply(create("app/services/customers.py", SERVICE), create("app/routes/customers.py", ROUTE))
    fake_api.reply(str_replace("app/main.py", MAIN_BEFORE, MAIN_AFTER),
                   str_replace("app/main.py", INCLUDE_BEFORE, INCLUDE_AFTER))
    fake_api.reply(text("Added GET /api/v1/customers."))
    async with session(shop) as s:
        await s.until(lambda: s.codes(shop / "app/models.py") == ["DB003"], what="the first analysis")
        result = await execute(s, IMPLEMENT, {"description": "GET /api/v1/customers: list customers",
                                              "uri": uri(shop / "app/routes/orders.py")})

        assert result["applied"] is True
        assert sorted(result["files"]) == ["app/main.py", "app/routes/customers.py", "app/services/customers.py"]
        (edit,) = s.applied
        creates = [change for change in edit.document_changes if isinstance(change, types.CreateFile)]
        assert sorted(change.uri for change in creates) == [uri(shop / "app/routes/customers.py"),
                                                            uri(shop / "app/services/customers.py")]
        assert edit.change_annotations["plumbline.agent"].needs_confirmation is True
        assert (shop / "app/routes/customers.py").read_text() == ROUTE  # applied by the (test) editor


async def test_implement_needs_file_creation_support(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(create("app/routes/customers.py", ROUTE), create("app/services/customers.py", SERVICE))
    fake_api.reply(view("app/main.py"))
    fake_api.reply(str_replace("app/main.py", MAIN_BEFORE, MAIN_AFTER),
                   str_replace("app/main.py", INCLUDE_BEFORE, INCLUDE_AFTER))
    fake_api.reply(text("Done."))
    async with session(shop, capabilities(create_files=False)) as s:
        await s.until(lambda: s.codes(shop / "app/models.py") == ["DB003"], what="the first analysis")
        result = await execute(s, IMPLEMENT, {"description": "GET /api/v1/customers"})

        assert result["applied"] is False and "cannot create files" in result["error"]
        assert s.applied == []


async def test_without_a_key_nothing_is_sent_and_the_user_is_told_how(fake_api: FakeMessagesAPI, shop: Path,
                                                                      monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    models = shop / "app/models.py"
    async with session(shop) as s:
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["applied"] is False and result["kind"] == "no_key"
        assert any("ANTHROPIC_API_KEY" in message.message and message.type == types.MessageType.Error
                   for message in s.client.messages)
        assert fake_api.requests == []


async def test_api_errors_are_shown_and_nothing_applied(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.fail(429, "rate_limit_error", "Your organization has reached its monthly spend limit.")
    models = shop / "app/models.py"
    async with session(shop) as s:
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["applied"] is False and result["kind"] == "spend_limit"
        assert s.applied == [] and len(fake_api.requests) == 1
        assert "Stopped: spend limit" in agent_progress(s)[-1].message


async def test_the_user_level_model_setting_is_used(fake_api: FakeMessagesAPI, shop: Path) -> None:
    fake_api.reply(text("Nothing to change."))
    models = shop / "app/models.py"
    async with session(shop, options={"agent": {"model": "claude-user-choice"}}) as s:
        command = await db003_action(s, models)
        result = await execute(s, command.command, command.arguments[0])

        assert result["kind"] == "gave_up" and "Nothing to change" in result["error"]
        assert fake_api.requests[0].body["model"] == "claude-user-choice"


async def test_stale_findings_and_bad_arguments_are_answered(fake_api: FakeMessagesAPI, shop: Path) -> None:
    models = shop / "app/models.py"
    async with session(shop) as s:
        await db003_action(s, models)
        stale = await execute(s, FIX, {"uri": uri(models), "fingerprint": "DB003:orders.nothing"})
        missing = await execute(s, FIX, {"uri": uri(models)})
        empty = await execute(s, IMPLEMENT, {"description": "  "})

        assert stale["kind"] == "stale" and "no longer reported" in stale["error"]
        assert missing["kind"] == "usage" and "fingerprint" in missing["error"]
        assert empty["kind"] == "usage"
        assert fake_api.requests == [] and s.applied == []
