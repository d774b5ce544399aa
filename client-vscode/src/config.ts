// Reading Plumbline's settings, with workspace trust applied.
import * as os from 'os';
import * as vscode from 'vscode';

export const SECTION = 'plumbline';

export interface PlumblineSettings {
  enable: boolean;
  /** Path to a `plumbline` executable; '' when unset. */
  path: string;
  /** Python interpreter that has Plumbline installed; '' when unset. */
  interpreter: string;
  select: string[];
  ignore: string[];
  /** The agent's model; '' for the server's default. Read from user settings only. */
  agentModel: string;
}

/** Settings whose change needs a new server process (the rest reach the server through didChangeConfiguration). */
export const RESTART_SETTINGS = ['enable', 'path', 'interpreter', 'agent.model'].map((k) => `${SECTION}.${k}`);

export function isTrusted(): boolean {
  return vscode.workspace.isTrusted;
}

export function firstWorkspaceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

export function readSettings(scope?: vscode.ConfigurationScope): PlumblineSettings {
  const folder = scope ?? firstWorkspaceFolder();
  const cfg = vscode.workspace.getConfiguration(SECTION, folder);
  const trusted = isTrusted();
  return {
    enable: cfg.get<boolean>('enable', true),
    path: expand(customPath(cfg, 'path', trusted), folder),
    interpreter: expand(customPath(cfg, 'interpreter', trusted), folder),
    select: stringArray(cfg.get('select')),
    ignore: stringArray(cfg.get('ignore')),
    agentModel: (cfg.inspect<string>('agent.model')?.globalValue ?? '').trim(),
  };
}

/** The options the server gets at `initialize` (and, as the whole section, with didChangeConfiguration). */
export function initializationOptions(settings: PlumblineSettings): { select: string[]; ignore: string[] } {
  return { select: settings.select, ignore: settings.ignore };
}

/**
 * Custom executable paths: in an untrusted workspace only the user's own settings count (VS Code already
 * drops workspace values of `restrictedConfigurations`; this keeps it so if that list ever changes).
 */
function customPath(cfg: vscode.WorkspaceConfiguration, key: string, trusted: boolean): string {
  if (trusted) {
    return (cfg.get<string>(key) ?? '').trim();
  }
  const inspected = cfg.inspect<string>(key);
  return (inspected?.globalValue ?? '').trim();
}

function stringArray(value: unknown): string[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((v): v is string => typeof v === 'string').map((v) => v.trim()).filter((v) => v.length > 0);
}

/** `~`, `${userHome}` and `${workspaceFolder}` in path settings. */
export function expand(value: string, folder?: vscode.WorkspaceFolder | vscode.ConfigurationScope): string {
  if (!value) {
    return value;
  }
  let out = value;
  const home = os.homedir();
  if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
    out = home + out.slice(1);
  }
  out = out.replace(/\$\{userHome\}/g, home);
  const wf = isWorkspaceFolder(folder) ? folder : firstWorkspaceFolder();
  if (wf) {
    out = out.replace(/\$\{workspaceFolder\}/g, wf.uri.fsPath);
  }
  return out;
}

function isWorkspaceFolder(x: unknown): x is vscode.WorkspaceFolder {
  return !!x && typeof x === 'object' && 'uri' in x && 'index' in x && 'name' in x;
}
