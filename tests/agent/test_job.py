"""Agent jobs end to end through the real SDK against the fake Messages API: tool use, verification, repair."""

from __future__ import annotations

import pytest

from lsp_server.agent.job import run_job
from lsp_server.agent.loop import AgentError
from tests.agent.conftest import SECRET_VALUES
from tests.agent.fake_api import FakeMessagesAPI, result_text, str_replace, text, tool_results, view
from tests.agent.helpers import FK_FIXED, FK_LINE, fix_job


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "json"])
async def test_view_replace_end_fixes_db003(fake_api: FakeMessagesAPI, shop, stream: bool) -> None:
    fake_api.reply(text("Let me look at the model."), view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Added index=True to orders.customer_id."))
    job = fix_job(shop, stream=stream)

    result = await run_job(job)

    assert [change.path for change in result.changes] == ["app/models.py"]
    assert FK_FIXED in result.changes[0].after
    assert result.repair_rounds == 0
    assert result.usage.turns == 3 and result.usage.tool_calls == 2
    assert result.usage.cache_read_tokens > 0  # turns 2 and 3 read tools + system from the cache
    assert (shop / "app/models.py").read_text().count("index=True") == 0  # nothing written to disk
    bodies = [request.body for request in fake_api.requests]
    assert all(body.get("stream", False) is stream for body in bodies)
    assert bodies[0]["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all(block["cache_control"] for block in bodies[0]["system"])
    assert "DB003" in bodies[0]["messages"][0]["content"][0]["text"]
    viewed = result_text(tool_results(bodies[1])[0])
    assert "customer_id" in viewed and "\t" in viewed


async def test_a_failed_verification_goes_back_and_the_repair_passes(fake_api: FakeMessagesAPI, shop) -> None:
    wrong = FK_LINE.replace("nullable=False", "nullable=True")
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, wrong))
    fake_api.reply(text("Made it nullable."))
    fake_api.reply(str_replace("app/models.py", wrong, FK_FIXED))
    fake_api.reply(text("Indexed it instead."))
    job = fix_job(shop)

    result = await run_job(job)

    assert result.repair_rounds == 1
    assert FK_FIXED in result.changes[0].after and wrong not in result.changes[0].after
    repair_request = fake_api.requests[3].body["messages"][-1]["content"][0]["text"]
    assert "still reported" in repair_request and "app/models.py:22" in repair_request


async def test_gives_up_after_three_repair_rounds(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", "nullable=False)\n", "nullable=False)  # todo\n"))
    fake_api.reply(text("Done."))
    for _ in range(3):
        fake_api.reply(text("I think it is fine."))
    job = fix_job(shop)

    with pytest.raises(AgentError) as raised:
        await run_job(job)

    assert raised.value.kind == "verification"
    assert "3 repair rounds" in raised.value.message and "still reported" in raised.value.message


async def test_a_model_that_changes_nothing_gives_up(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(text("I cannot fix this without knowing the database."))
    with pytest.raises(AgentError) as raised:
        await run_job(fix_job(shop))
    assert raised.value.kind == "gave_up" and "knowing the database" in raised.value.message


async def test_suppressing_the_finding_is_not_a_fix(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_LINE.rstrip("\n") + "  # plumbline: ignore[DB003]\n"))
    fake_api.reply(text("Suppressed."))
    fake_api.reply(str_replace("app/models.py", FK_LINE.rstrip("\n") + "  # plumbline: ignore[DB003]\n", FK_FIXED))
    fake_api.reply(text("Fixed properly."))

    result = await run_job(fix_job(shop))

    assert result.repair_rounds == 1
    assert "plumbline: ignore" in fake_api.requests[3].body["messages"][-1]["content"][0]["text"]


async def test_reading_dotenv_is_refused_and_the_secret_never_leaves(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view(".env"))
    fake_api.reply(view(str(shop / ".env")))
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Done."))

    result = await run_job(fix_job(shop))

    refused = [tool_results(fake_api.requests[index].body)[0] for index in (1, 2)]
    assert all(block.get("is_error") and "Refused" in result_text(block) for block in refused)
    assert len(result.refusals) == 2
    sent = fake_api.sent_text()
    assert not any(secret in sent for secret in SECRET_VALUES)
    assert "test-key" not in sent


async def test_paths_outside_the_workspace_are_refused(fake_api: FakeMessagesAPI, shop, tmp_path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 'outside-the-workspace'\n")
    (shop / "app" / "link.py").symlink_to(outside)
    fake_api.reply(view("../outside.py"))
    fake_api.reply(view(str(outside)))
    fake_api.reply(view("app/link.py"))
    fake_api.reply(text("I could not read them."))

    with pytest.raises(AgentError):
        await run_job(fix_job(shop))

    results = [result_text(tool_results(fake_api.requests[index].body)[0]) for index in (1, 2, 3)]
    assert all(result.startswith("Refused") for result in results)
    assert "symbolic link" in results[2]
    assert "outside-the-workspace" not in fake_api.sent_text()


async def test_an_ambiguous_match_goes_back_to_the_model(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", "server_default=func.now())\n", "server_default=func.now())  \n"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Done."))
    result = await run_job(fix_job(shop))
    (ambiguous,) = tool_results(fake_api.requests[2].body)
    assert ambiguous["is_error"] is True
    assert "matches 2 places" in result_text(ambiguous) and "lines 14, 24" in result_text(ambiguous)
    assert result.changes[0].after == (shop / "app/models.py").read_text().replace(FK_LINE, FK_FIXED)


async def test_a_missing_match_is_explained(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE.replace("    ", "\t"), FK_FIXED))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Done."))
    result = await run_job(fix_job(shop))
    missing = result_text(tool_results(fake_api.requests[2].body)[0])
    assert "No match" in missing and "line(s) 22" in missing
    assert FK_FIXED in result.changes[0].after


async def test_a_syntax_error_is_located_and_repaired(fake_api: FakeMessagesAPI, shop) -> None:
    broken = FK_FIXED.replace("index=True)", "index=True")
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, broken))
    fake_api.reply(text("Done."))
    fake_api.reply(str_replace("app/models.py", broken, FK_FIXED))
    fake_api.reply(text("Closed the parenthesis."))
    result = await run_job(fix_job(shop))
    repair = fake_api.requests[3].body["messages"][-1]["content"][0]["text"]
    assert "syntax error" in repair and "app/models.py:2" in repair
    assert result.repair_rounds == 1 and FK_FIXED in result.changes[0].after


async def test_crlf_files_keep_their_line_endings(fake_api: FakeMessagesAPI, shop) -> None:
    models = shop / "app/models.py"
    models.write_bytes(models.read_bytes().replace(b"\n", b"\r\n"))
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Done."))
    result = await run_job(fix_job(shop))
    (change,) = result.changes
    assert FK_FIXED.replace("\n", "\r\n") in change.after and "\n" not in change.after.replace("\r\n", "")
