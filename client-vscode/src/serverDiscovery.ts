// Finds how to start `plumbline serve`. In order:
//   1. the `plumbline.path` setting (an executable: `<path> serve --stdio`);
//   2. the interpreter selected in the Python extension, if installed (trusted workspaces only: it may be the
//      workspace's own virtual environment);
//   3. the `plumbline.interpreter` setting;
//   4. `python3`.
// A Python candidate is used only when `import lsp_server` works there; otherwise the next one is tried.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { PlumblineSettings, firstWorkspaceFolder, isTrusted } from './config';
import { selectedInterpreter } from './pythonExtension';

/** The module `python -m` runs; also what the import check imports. */
export const SERVER_MODULE = 'lsp_server';
/** The distribution to install. */
export const DISTRIBUTION = 'plumbline';

export interface ServerLaunch {
  command: string;
  /** Arguments before the `--stdio` the language client appends. */
  args: string[];
  cwd: string;
  /** Where it came from, for the log and the status bar tooltip. */
  origin: string;
  version?: string;
}

export type Discovery =
  | { kind: 'found'; launch: ServerLaunch }
  | { kind: 'badPath'; path: string; reason: string }
  | { kind: 'notInstalled'; python: string; origin: string }
  | { kind: 'noPython' };

interface Candidate {
  python: string;
  origin: string;
}

type ProbeResult =
  | { kind: 'ok'; version: string; executable: string }
  | { kind: 'missingPython'; detail: string }
  | { kind: 'notImportable'; detail: string };

// Imports the package and checks that `python -m` can run it (without running it).
const PROBE = [
  'import importlib.util, json, sys',
  'try:',
  `    import ${SERVER_MODULE}`,
  `    if importlib.util.find_spec("${SERVER_MODULE}.__main__") is None:`,
  `        raise ImportError("${SERVER_MODULE} has no __main__ module")`,
  'except Exception as e:',
  '    print(json.dumps({"ok": False, "error": type(e).__name__ + ": " + str(e)})); sys.exit(3)',
  'try:',
  '    from importlib.metadata import version',
  `    v = version("${DISTRIBUTION}")`,
  'except Exception:',
  `    v = getattr(${SERVER_MODULE}, "__version__", "unknown")`,
  'print(json.dumps({"ok": True, "version": v, "executable": sys.executable}))',
].join('\n');

/** The folder the server (and the import check) run in: the workspace when trusted, else a neutral one. */
export function serverCwd(): string {
  const folder = firstWorkspaceFolder();
  return isTrusted() && folder?.uri.scheme === 'file' ? folder.uri.fsPath : os.tmpdir();
}

export async function discoverServer(
  settings: PlumblineSettings,
  log: (message: string) => void,
): Promise<Discovery> {
  const cwd = serverCwd();

  if (settings.path) {
    const exe = resolveExecutable(settings.path, cwd);
    if (!exe) {
      return { kind: 'badPath', path: settings.path, reason: 'not found or not executable' };
    }
    log(`Using plumbline.path: ${exe}`);
    return { kind: 'found', launch: { command: exe, args: ['serve'], cwd, origin: 'plumbline.path setting' } };
  }

  const candidates: Candidate[] = [];
  if (isTrusted()) {
    const selected = await selectedInterpreter(firstWorkspaceFolder()?.uri);
    if (selected) {
      candidates.push({ python: selected, origin: 'interpreter selected in the Python extension' });
    }
  }
  if (settings.interpreter) {
    candidates.push({ python: settings.interpreter, origin: 'plumbline.interpreter setting' });
  }
  candidates.push({ python: process.platform === 'win32' ? 'python' : 'python3', origin: 'default interpreter' });

  let firstExisting: Candidate | undefined;
  for (const candidate of dedupe(candidates)) {
    const probe = await probePython(candidate.python, cwd);
    if (probe.kind === 'ok') {
      log(`Found ${DISTRIBUTION} ${probe.version} in ${probe.executable} (${candidate.origin})`);
      return {
        kind: 'found',
        launch: {
          command: candidate.python,
          args: ['-m', SERVER_MODULE, 'serve'],
          cwd,
          origin: candidate.origin,
          version: probe.version,
        },
      };
    }
    log(`${candidate.python} (${candidate.origin}): ${probe.detail}`);
    if (probe.kind === 'notImportable' && !firstExisting) {
      firstExisting = candidate;
    }
  }
  return firstExisting
    ? { kind: 'notInstalled', python: firstExisting.python, origin: firstExisting.origin }
    : { kind: 'noPython' };
}

export function installCommand(python: string): string {
  return `${quote(python)} -m pip install ${DISTRIBUTION}`;
}

function quote(s: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(s) ? s : `"${s.replace(/"/g, '\\"')}"`;
}

function dedupe(candidates: Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((c) => (seen.has(c.python) ? false : (seen.add(c.python), true)));
}

function probePython(python: string, cwd: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(python, ['-c', PROBE], { cwd, timeout: 30000, windowsHide: true }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT' || code === 'EACCES') {
        resolve({ kind: 'missingPython', detail: `cannot run it (${code})` });
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(last) as { ok: boolean; version?: string; executable?: string; error?: string };
        if (parsed.ok) {
          resolve({ kind: 'ok', version: parsed.version ?? 'unknown', executable: parsed.executable ?? python });
        } else {
          resolve({ kind: 'notImportable', detail: `${SERVER_MODULE} is not importable (${parsed.error})` });
        }
      } catch {
        const why = error ? `${error.message}` : 'no answer';
        // Not a Python at all (or one that crashed): treat it as missing rather than as "install here".
        resolve({ kind: 'missingPython', detail: `the import check failed: ${why} ${stderr.trim()}`.trim() });
      }
    });
  });
}

/** An absolute/relative path to an executable file, or a bare name looked up on PATH. */
function resolveExecutable(value: string, cwd: string): string | undefined {
  const hasSep = value.includes('/') || value.includes('\\');
  if (hasSep) {
    const full = path.isAbsolute(value) ? value : path.resolve(cwd, value);
    return isExecutable(full) ? full : undefined;
  }
  const exts = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    for (const ext of exts) {
      const full = path.join(dir, value + ext);
      if (isExecutable(full)) {
        return full;
      }
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Tells the user, with actions, why there is no server. Never silent. */
export async function reportDiscoveryFailure(
  result: Exclude<Discovery, { kind: 'found' }>,
  actions: { showOutput: () => void; restart: () => void },
): Promise<void> {
  const openSettings = 'Open Settings';
  const showOutput = 'Show Output';
  if (result.kind === 'badPath') {
    const pick = await vscode.window.showErrorMessage(
      `Plumbline: the plumbline.path setting "${result.path}" is ${result.reason}.`,
      openSettings,
      showOutput,
    );
    if (pick === openSettings) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'plumbline.path');
    } else if (pick === showOutput) {
      actions.showOutput();
    }
    return;
  }
  if (result.kind === 'noPython') {
    const pick = await vscode.window.showErrorMessage(
      'Plumbline needs Python 3.11 or later with the plumbline package. No Python interpreter was found: ' +
        'install Python, then `python3 -m pip install plumbline`, or set plumbline.interpreter or plumbline.path.',
      openSettings,
      showOutput,
    );
    if (pick === openSettings) {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'plumbline.');
    } else if (pick === showOutput) {
      actions.showOutput();
    }
    return;
  }
  const cmd = installCommand(result.python);
  const copy = 'Copy Install Command';
  const pick = await vscode.window.showWarningMessage(
    `Plumbline is not installed for ${result.python} (${result.origin}). Install it with: ${cmd} — ` +
      'then run "Plumbline: Restart Server".',
    copy,
    openSettings,
    showOutput,
  );
  if (pick === copy) {
    await vscode.env.clipboard.writeText(cmd);
    const restart = 'Restart Server';
    const next = await vscode.window.showInformationMessage(
      `Copied "${cmd}". Run it in a terminal, then restart the server.`,
      restart,
    );
    if (next === restart) {
      actions.restart();
    }
  } else if (pick === openSettings) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'plumbline.interpreter');
  } else if (pick === showOutput) {
    actions.showOutput();
  }
}
