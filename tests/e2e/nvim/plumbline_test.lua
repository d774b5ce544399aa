-- Neovim (headless) end to end: Plumbline's diagnostic on open, its quick fix clears it, and an edit to a mixin
-- updates the diagnostics of model files that are not open.
-- usage: PLUMBLINE_PYTHON=python3 PLUMBLINE_ROOT=/path/to/project \
--        nvim --headless --clean -n /path/to/project/app/models/orders.py -c 'luafile plumbline_test.lua'
-- Works on Neovim 0.7 (Debian 12) and later.
local python = os.getenv("PLUMBLINE_PYTHON") or "python3"
local root = os.getenv("PLUMBLINE_ROOT")
local timeout = 30000
local function out(s) io.stdout:write(s .. "\n") end
local function fail(s) out("FAIL: " .. s); vim.cmd("cquit 1") end
if not root then fail("PLUMBLINE_ROOT is not set") end

out("nvim " .. vim.version().major .. "." .. vim.version().minor .. "." .. vim.version().patch)
local models = vim.api.nvim_get_current_buf()
local config = {
  name = "plumbline",
  cmd = { python, "-m", "lsp_server", "serve", "--stdio" },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = "project" } },
}
local client_id
if vim.lsp.start then
  client_id = vim.lsp.start(config, { bufnr = models })
else
  client_id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(models, client_id)
end
if not client_id then fail("could not start the server") end

local function plumbline(bufnr, code)
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = (d.user_data and d.user_data.lsp) or {}
    if d.source == "plumbline" and (code == nil or lsp.code == code) then table.insert(found, d) end
  end
  return found
end

-- 1. the finding shows on open
if not vim.wait(timeout, function() return #plumbline(models, "DB003") > 0 end, 50) then
  fail("no DB003 diagnostic within " .. timeout / 1000 .. " s")
end
local diagnostic = plumbline(models, "DB003")[1]
out(string.format("DIAG line=%d col=%d msg=%s", diagnostic.lnum, diagnostic.col, diagnostic.message))

-- 2. its quick fix (the preferred action) clears it
local lsp = diagnostic.user_data and diagnostic.user_data.lsp or {}
local params = {
  textDocument = vim.lsp.util.make_text_document_params(models),
  range = { start = { line = diagnostic.lnum, character = diagnostic.col },
            ["end"] = { line = diagnostic.end_lnum, character = diagnostic.end_col } },
  context = { only = { "quickfix" }, diagnostics = { {
    range = { start = { line = diagnostic.lnum, character = diagnostic.col },
              ["end"] = { line = diagnostic.end_lnum, character = diagnostic.end_col } },
    message = diagnostic.message, severity = diagnostic.severity, source = diagnostic.source,
    code = lsp.code, data = lsp.data,
  } } },
}
local response = vim.lsp.buf_request_sync(models, "textDocument/codeAction", params, timeout)
local actions = response and response[client_id] and response[client_id].result or {}
out("ACTIONS " .. table.concat(vim.tbl_map(function(a) return a.title end, actions), " | "))
local fix
for _, action in ipairs(actions) do
  if action.isPreferred and action.edit then fix = action; break end
end
if not fix then fail("no preferred quick fix") end
local client = vim.lsp.get_client_by_id(client_id)
vim.lsp.util.apply_workspace_edit(fix.edit, client.offset_encoding or "utf-16")
out("FIXED " .. vim.api.nvim_buf_get_lines(models, diagnostic.lnum, diagnostic.lnum + 1, false)[1])
if not vim.wait(timeout, function() return #plumbline(models, "DB003") == 0 end, 50) then
  fail("DB003 still shown after the quick fix")
end
out("CLEARED DB003")

-- 3. removing created_at from the mixin raises DB001 in model files that are not open
local products = vim.uri_to_bufnr(vim.uri_from_fname(root .. "/app/models/products.py"))
local reviews = vim.uri_to_bufnr(vim.uri_from_fname(root .. "/app/models/reviews.py"))
if #plumbline(products, "DB001") > 0 then fail("DB001 before the edit") end
vim.cmd("edit " .. root .. "/app/models/mixins.py")
local mixins = vim.api.nvim_get_current_buf()
if not vim.lsp.start then vim.lsp.buf_attach_client(mixins, client_id) end
local lines = vim.api.nvim_buf_get_lines(mixins, 0, -1, false)
for number, line in ipairs(lines) do
  if line:find("created_at", 1, true) then
    vim.api.nvim_buf_set_lines(mixins, number - 1, number, false, {})
    break
  end
end
local raised = vim.wait(timeout, function()
  return #plumbline(products, "DB001") > 0 and #plumbline(reviews, "DB001") > 0
end, 50)
if not raised then fail("no DB001 in the unopened model files after the mixin edit") end
out("DB001 products.py loaded=" .. tostring(vim.api.nvim_buf_is_loaded(products)) .. " reviews.py loaded="
    .. tostring(vim.api.nvim_buf_is_loaded(reviews)))

vim.lsp.stop_client(client_id)
vim.wait(5000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
out("RESULT PASS")
vim.cmd("qall!")
