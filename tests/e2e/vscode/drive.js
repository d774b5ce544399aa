// Drives code-server (real VS Code in the browser) with Debian chromium through playwright-core and checks
// the Plumbline extension end to end. Started by run.sh; configured through the environment:
//   CS_URL      code-server's URL (with ?folder=...)          WS         the workspace folder on disk
//   OUT         the artefacts folder for screenshots          CHROMIUM   chromium's executable
//   FIX_TITLE   a regular expression for the quick fix's title (default: index)
//   EXPECT_FILES  comma-separated files the agent creates (default: the fake API's script)
//   STEP_TIMEOUT_MS  the longest wait of one step (default 180000)
//   MODE        'trusted' (default) or 'untrusted' (restricted mode: diagnostics yes, agent no)
// Prints one "STEP name: PASS|FAIL|SKIP ..." line per step and "RESULT PASS" or "RESULT FAIL" at the end.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const WS = process.env.WS;
const CS_URL = process.env.CS_URL || `http://127.0.0.1:8080/?folder=${WS}`;
const OUT = process.env.OUT || path.join(process.cwd(), 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FIX_TITLE = new RegExp(process.env.FIX_TITLE || 'index', 'i');
const EXPECT_FILES = (process.env.EXPECT_FILES || 'app/routers/refunds.py,app/refund_service.py')
  .split(',').map((s) => s.trim()).filter(Boolean);
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS || 180000);
const DESCRIPTION = 'POST /orders/{order_id}/refunds: refund an order once and return the refund';
const MODELS = 'app/models.py';
const MODE = process.env.MODE || 'trusted'; // 'untrusted': the restricted-mode checks only

if (!WS) {
  console.error('drive.js: set WS to the workspace folder');
  process.exit(2);
}
fs.mkdirSync(OUT, { recursive: true });
const t0 = Date.now();
const log = (m) => console.log(`[drive ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const steps = [];
function step(name, status, detail = '') {
  steps.push({ name, status, detail });
  console.log(`STEP ${name}: ${status}${detail ? ' - ' + detail : ''}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const squash = (s) => (s || '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file }).catch((e) => log(`screenshot ${name} failed: ${e.message}`));
  log(`screenshot ${file}`);
  return file;
}

async function waitFor(predicate, timeout, interval = 250) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > end) return undefined;
    await sleep(interval);
  }
}

async function notifications(page) {
  const texts = await page.locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message')
    .allInnerTexts().catch(() => []);
  return texts.map(squash).filter(Boolean);
}

/** Every notification of the session: opens the notification center (toasts hide after a while). */
async function allNotifications(page) {
  await runCommand(page, 'Notifications: Show Notifications').catch(() => {});
  await sleep(1000);
  return notifications(page);
}

async function statusText(page) {
  const item = page.locator('.statusbar-item', { hasText: 'Plumbline' }).first();
  if (!(await item.count())) return null;
  return squash(await item.innerText().catch(() => ''));
}

async function runCommand(page, label) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill('>' + label);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 30000 });
  await page.keyboard.press('Enter');
}

async function openFile(page, rel) {
  const base = path.basename(rel);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill(rel);
  // The list updates asynchronously: wait for a row naming the file, not just any row.
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first();
  try {
    await row.waitFor({ timeout: 30000 });
    await row.click();
    await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ timeout: 30000 });
    await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout: 30000 });
  } catch (e) {
    await shot(page, `error-open-${base}.png`);
    throw e;
  }
}

function problemRows(page, text) {
  return page.locator('.markers-panel .monaco-list-row', { hasText: text });
}

async function editorText(page) {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.editor-group-container.active .monaco-editor .view-lines .view-line')];
    return lines.map((l) => l.textContent.replace(/\u00a0/g, ' ')).join('\n');
  });
}

// Restricted mode: an untrusted workspace still gets diagnostics, but no agent (no code action, no command).
async function mainUntrusted(page) {
  await page.goto(CS_URL);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await sleep(3000);
  const no = page.locator('.monaco-dialog-box .monaco-button', { hasText: /don.t trust/i });
  if (await no.count()) {
    await no.first().click();
    log('trust dialog: "No, I don\'t trust the authors"');
  }
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 90000 });
  await openFile(page, MODELS);
  await page.keyboard.press('Control+Shift+M');
  const db003 = problemRows(page, 'DB003');
  if (!(await db003.first().waitFor({ timeout: STEP_TIMEOUT }).then(() => true, () => false))) {
    step('untrusted-limited-mode', 'FAIL', `no DB003 diagnostic in the untrusted workspace; status bar ${JSON.stringify(await statusText(page))}`);
    await shot(page, 'error-untrusted.png');
    return;
  }
  const onDisk = fs.readFileSync(path.join(WS, MODELS), 'utf8').split('\n');
  const lineIdx = onDisk.findIndex((l) => l.includes('customer_id = Column('));
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.keyboard.type(`${lineIdx + 1}:${onDisk[lineIdx].indexOf('customer_id') + 4}`);
  await page.keyboard.press('Enter');
  await sleep(500);
  await page.keyboard.press('Control+.');
  const rows = page.locator('.action-widget .monaco-list-row');
  await rows.first().waitFor({ timeout: 30000 }).catch(() => {});
  await sleep(700);
  const titles = (await rows.allInnerTexts()).map(squash).filter(Boolean);
  log('untrusted code actions: ' + JSON.stringify(titles));
  await shot(page, 'untrusted-quickfix-menu.png');
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill('>Plumbline:');
  await sleep(1500);
  const palette = (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map(squash);
  log('untrusted palette: ' + JSON.stringify(palette));
  await page.keyboard.press('Escape');
  const agentAction = titles.some((t) => /agent/i.test(t));
  const implement = palette.some((t) => /Implement Endpoint/i.test(t));
  const fix = titles.some((t) => FIX_TITLE.test(t));
  if (!agentAction && !implement && fix && palette.length > 0) {
    step('untrusted-limited-mode', 'PASS', 'diagnostic and quick fix shown; no agent action, no Implement Endpoint');
  } else {
    step('untrusted-limited-mode', 'FAIL', `agent action=${agentAction} implement command=${implement} rule fix=${fix} palette rows=${palette.length}`);
  }
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await fixAll(page);
}

async function main(page) {
  // 1. The workbench and the workspace.
  await page.goto(CS_URL);
  await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 90000 });
  step('workbench', 'PASS', `code-server at ${CS_URL.split('?')[0]}`);

  // 2. Open the model file; the extension activates (pyproject.toml / Python) and starts the server.
  await openFile(page, MODELS);
  log('editor open: ' + MODELS);
  const status = await waitFor(async () => {
    const t = await statusText(page);
    // "Plumbline: scanning…" or "Plumbline: N" = running; "not running" = the server could not start
    return t && /Plumbline: (scanning|\d|not running)/.test(t) ? t : undefined;
  }, 120000);
  log('status bar: ' + JSON.stringify(await statusText(page)));
  if (!status || /not running/.test(status)) {
    const t = await statusText(page);
    step('extension-activates', 'FAIL', t ? `the server is not running: status bar "${t}"; notifications ${JSON.stringify(await allNotifications(page))}` : 'no Plumbline status bar item');
    await shot(page, 'error-activation.png');
    return;
  }
  step('extension-activates', 'PASS', `status bar "${status}"`);

  // 3. Plumbline's diagnostic in the Problems panel.
  await page.keyboard.press('Control+Shift+M');
  const db003 = problemRows(page, 'DB003');
  const seen = await db003.first().waitFor({ timeout: STEP_TIMEOUT }).then(() => true, () => false);
  if (!seen) {
    const notes = await allNotifications(page);
    step('diagnostics', 'FAIL', `no DB003 row in the Problems panel; status bar ${JSON.stringify(await statusText(page))}; notifications ${JSON.stringify(notes)}`);
    await shot(page, 'error-diagnostics.png');
    await runCommand(page, 'Plumbline: Show Output').catch(() => {});
    await sleep(1500);
    await shot(page, 'error-diagnostics-output.png');
    return;
  }
  const rowText = squash(await db003.first().innerText());
  log('Problems panel: ' + rowText);
  await sleep(1500); // pushed and pulled diagnostics would both be in by now
  const db003Count = await db003.count();
  if (db003Count !== 1) {
    await shot(page, 'error-duplicate-diagnostics.png');
    step('diagnostics', 'FAIL', `${db003Count} DB003 rows in the Problems panel, expected 1 (pushed and pulled twice?)`);
    return;
  }
  await waitFor(async () => /Plumbline: [1-9]/.test((await statusText(page)) || ''), 15000);
  log('status bar: ' + JSON.stringify(await statusText(page)));
  await shot(page, '1-diagnostics.png');
  step('diagnostics', 'PASS', rowText);

  // 4. The quick fix: cursor into the finding, Ctrl+., pick the rule's fix.
  const onDisk0 = fs.readFileSync(path.join(WS, MODELS), 'utf8').split('\n');
  const lineIdx = onDisk0.findIndex((l) => l.includes('customer_id = Column('));
  const col = onDisk0[lineIdx].indexOf('customer_id') + 3;
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 15000 });
  await page.keyboard.type(`${lineIdx + 1}:${col + 1}`);
  await page.keyboard.press('Enter');
  await sleep(500);
  await page.keyboard.press('Control+.');
  const rows = page.locator('.action-widget .monaco-list-row');
  const menuOk = await rows.first().waitFor({ timeout: 30000 }).then(() => true, () => false);
  if (!menuOk) {
    step('quick-fix', 'FAIL', 'no code action menu at the finding');
    await shot(page, 'error-quickfix.png');
    return;
  }
  await sleep(700); // let the menu settle (all providers answered)
  const titles = (await rows.allInnerTexts()).map(squash).filter(Boolean);
  log('code actions: ' + JSON.stringify(titles));
  await shot(page, '2-quickfix-menu.png');
  const pickIdx = titles.findIndex((t) => FIX_TITLE.test(t) && !/ignore|agent/i.test(t));
  if (pickIdx < 0) {
    step('quick-fix', 'FAIL', `no action matching ${FIX_TITLE} among ${JSON.stringify(titles)}`);
    await page.keyboard.press('Escape');
    return;
  }
  const enabledRows = page.locator('.action-widget .monaco-list-row.action');
  await enabledRows.filter({ hasText: titles[pickIdx] }).first().click();
  log('applied: ' + titles[pickIdx]);

  const fixedInEditor = await waitFor(async () => (await editorText(page)).includes('index=True'), 30000);
  const cleared = await db003.first().waitFor({ state: 'detached', timeout: 60000 }).then(() => true, () => false);
  await page.keyboard.press('Control+S');
  const onDisk = await waitFor(() => fs.readFileSync(path.join(WS, MODELS), 'utf8').includes('index=True'), 20000);
  const diskLine = fs.readFileSync(path.join(WS, MODELS), 'utf8').split('\n')[lineIdx];
  log(`models.py line ${lineIdx + 1} on disk: ${JSON.stringify(diskLine.trim())}`);
  await sleep(800);
  log('status bar: ' + JSON.stringify(await statusText(page)));
  await shot(page, '3-after-fix.png');
  if (fixedInEditor && cleared && onDisk) {
    step('quick-fix', 'PASS', `"${titles[pickIdx]}": diagnostic cleared, file changed on disk`);
  } else {
    step('quick-fix', 'FAIL', `edit in editor=${!!fixedInEditor} diagnostic cleared=${cleared} on disk=${!!onDisk}`);
  }

  // 5. Implement Endpoint… with the agent pointed at the fake Messages API.
  await runCommand(page, 'Plumbline: Implement Endpoint');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor({ state: 'visible', timeout: 30000 });
  await box.fill(DESCRIPTION);
  await shot(page, '4-implement-input.png');
  await page.keyboard.press('Enter');
  log('implement endpoint requested: ' + DESCRIPTION);

  let sawAgent = false;
  let applied = false;
  const done = await waitFor(async () => {
    const s = (await statusText(page)) || '';
    if (/agent/i.test(s) && !sawAgent) {
      sawAgent = true;
      log('status bar: ' + JSON.stringify(s));
    }
    // A multi-file edit that asks for confirmation opens the refactor preview: apply it.
    // Changes that need confirmation start unchecked there: tick every file, as a user would, then Apply.
    const apply = page.locator('.monaco-button', { hasText: /^Apply$/ }).first();
    if (!applied && (await apply.isVisible().catch(() => false))) {
      await sleep(1000);
      const unchecked = page.locator('.part.panel [role="checkbox"][aria-checked="false"]').filter({ visible: true });
      let n = 0;
      while (n < 20 && (await unchecked.count()) > 0) {
        await unchecked.first().click({ timeout: 5000 }).catch((e) => log('checkbox: ' + e.message.split('\n')[0]));
        n++;
        await sleep(300);
      }
      log(`refactor preview: ticked ${n} unchecked change(s)`);
      await shot(page, '5-refactor-preview.png');
      await apply.click();
      applied = true;
      log('refactor preview: Apply clicked');
    }
    return EXPECT_FILES.every((f) => fs.existsSync(path.join(WS, f)));
  }, STEP_TIMEOUT, 500);
  if (!done) {
    const missing = EXPECT_FILES.filter((f) => !fs.existsSync(path.join(WS, f)));
    step('implement-endpoint', 'FAIL', `files not created: ${missing.join(', ')}; notifications ${JSON.stringify(await allNotifications(page))}`);
    await shot(page, 'error-implement.png');
    return;
  }
  // The new files may still be unsaved buffers: save everything, then read them from disk.
  await runCommand(page, 'File: Save All').catch(() => {});
  const written = await waitFor(() => EXPECT_FILES.every((f) => fs.statSync(path.join(WS, f)).size > 0), 20000);
  for (const f of EXPECT_FILES) {
    const text = fs.readFileSync(path.join(WS, f), 'utf8');
    log(`${f}: ${text.length} bytes, first line ${JSON.stringify(text.split('\n')[0])}`);
  }
  await openFile(page, EXPECT_FILES[0]).catch((e) => log('could not open the new file: ' + e.message.split('\n')[0]));
  await sleep(1000);
  await shot(page, '6-endpoint-created.png');
  const routerText = fs.readFileSync(path.join(WS, EXPECT_FILES[0]), 'utf8');
  if (written && routerText.includes('/refunds')) {
    step('implement-endpoint', 'PASS', `created ${EXPECT_FILES.join(', ')}`);
  } else {
    step('implement-endpoint', 'FAIL', `files exist but are empty or unexpected (router has "/refunds": ${routerText.includes('/refunds')})`);
  }
  await ruleDocs(page);
}

// "Plumbline: Show Rule Documentation" for a typed code: the server's markdown opens beside the editor.
async function ruleDocs(page) {
  await runCommand(page, 'Plumbline: Show Rule Documentation');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await input.fill('DB003');
  await sleep(800);
  await page.keyboard.press('Enter');
  const needle = 'foreign-key-without-index';
  const found = await waitFor(async () => {
    for (const frame of page.frames()) {
      const text = await frame.evaluate(() => (document.body ? document.body.innerText : '')).catch(() => '');
      if (text.includes(needle)) return true;
    }
    return false;
  }, 30000, 500);
  await sleep(500);
  await shot(page, '7-rule-docs.png');
  step('rule-docs', found ? 'PASS' : 'FAIL', found ? 'DB003 documentation shown' : `no "${needle}" on screen`);
}

// "Plumbline: Fix All Auto-fixable Problems" on the active file: the safe fix lands and the file saves.
async function fixAll(page) {
  await runCommand(page, 'Plumbline: Fix All Auto-fixable Problems');
  const inEditor = await waitFor(async () => (await editorText(page)).includes('index=True'), 30000);
  await page.keyboard.press('Control+S');
  const onDisk = await waitFor(() => fs.readFileSync(path.join(WS, MODELS), 'utf8').includes('index=True'), 20000);
  await shot(page, 'untrusted-after-fix-all.png');
  step('fix-all', inEditor && onDisk ? 'PASS' : 'FAIL', `edit in editor=${!!inEditor} on disk=${!!onDisk}`);
}

(async () => {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plumbline-pw-'));
  const ctx = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  ctx.setDefaultTimeout(30000);
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => log('pageerror: ' + e.message));
  log(`chromium ${ctx.browser()?.version?.() ?? ''}; workspace ${WS}`);
  try {
    await (MODE === 'untrusted' ? mainUntrusted(page) : main(page));
  } catch (e) {
    step('unexpected-error', 'FAIL', String(e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e));
    await shot(page, 'error.png');
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  const expected = MODE === 'untrusted'
    ? ['untrusted-limited-mode', 'fix-all']
    : ['workbench', 'extension-activates', 'diagnostics', 'quick-fix', 'implement-endpoint', 'rule-docs'];
  for (const name of expected) {
    if (!steps.some((s) => s.name === name)) step(name, 'SKIP', 'not reached');
  }
  const ok = steps.every((s) => s.status === 'PASS');
  console.log(`vscode-e2e-${MODE}: ${steps.filter((s) => s.status === 'PASS').length} passed, ${steps.filter((s) => s.status !== 'PASS').length} failed`);
  console.log(ok ? 'RESULT PASS' : 'RESULT FAIL');
  process.exit(ok ? 0 : 1);
})();
