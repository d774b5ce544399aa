// The extension's own commands. The server's commands (plumbline.fixWithAgent, plumbline.implementEndpoint,
// plumbline.fixAll, plumbline.showRuleDocs) are registered by the language client from the server's
// capabilities, so the palette commands here have their own ids and call the server through executeCommand.
import * as vscode from 'vscode';
import { ApiKeyStore } from './apiKey';
import { isTrusted } from './config';
import { ServerManager } from './server';
import { DIAGNOSTIC_SOURCE } from './statusBar';

export const COMMANDS = {
  implementEndpoint: 'plumbline.implementEndpointPrompt',
  fixAll: 'plumbline.fixAllInFile',
  setApiKey: 'plumbline.setApiKey',
  clearApiKey: 'plumbline.clearApiKey',
  restart: 'plumbline.restartServer',
  showOutput: 'plumbline.showOutput',
  showRuleDocs: 'plumbline.showRuleDocsPrompt',
} as const;

export function registerCommands(
  context: vscode.ExtensionContext,
  server: ServerManager,
  apiKey: ApiKeyStore,
  output: vscode.LogOutputChannel,
): void {
  const register = (id: string, fn: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  register(COMMANDS.showOutput, () => output.show(true));
  register(COMMANDS.restart, () => server.restart('"Plumbline: Restart Server"'));
  register(COMMANDS.setApiKey, () => apiKey.prompt());
  register(COMMANDS.clearApiKey, () => apiKey.clear());

  register(COMMANDS.implementEndpoint, async () => {
    if (!isTrusted()) {
      vscode.window.showWarningMessage('Plumbline: the agent is off in untrusted workspaces.');
      return;
    }
    if (!(await apiKey.available())) {
      const set = 'Set API Key';
      if ((await vscode.window.showWarningMessage('Plumbline: the agent needs an Anthropic API key.', set)) === set) {
        await apiKey.prompt();
      }
      return;
    }
    const description = await vscode.window.showInputBox({
      title: 'Plumbline: Implement Endpoint',
      prompt: 'Describe the endpoint: method, path, what it does. The agent follows the project\'s own patterns.',
      placeHolder: 'POST /orders/{order_id}/refunds: refund an order once, return the refund',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Describe the endpoint to implement.'),
    });
    if (!description?.trim()) {
      return;
    }
    const args: { description: string; uri?: string } = { description: description.trim() };
    const uri = activeFileUri();
    if (uri) {
      args.uri = uri;
    }
    output.info(`Implement endpoint: ${args.description}${uri ? ` (from ${uri})` : ''}`);
    await runServerCommand(server, output, 'plumbline.implementEndpoint', args);
  });

  register(COMMANDS.fixAll, async () => {
    const uri = activeFileUri();
    if (!uri) {
      vscode.window.showInformationMessage('Plumbline: open a file to fix.');
      return;
    }
    await runServerCommand(server, output, 'plumbline.fixAll', { uri });
  });

  register(COMMANDS.showRuleDocs, async (arg?: unknown) => {
    const code = typeof arg === 'string' ? arg : await pickRuleCode();
    if (!code) {
      return;
    }
    const result = await runServerCommand(server, output, 'plumbline.showRuleDocs', { code });
    const markdown = docText(result);
    if (markdown) {
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
      try {
        await vscode.commands.executeCommand('markdown.showPreviewToSide', doc.uri);
      } catch {
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
      }
    }
  });
}

async function runServerCommand(
  server: ServerManager,
  output: vscode.LogOutputChannel,
  command: string,
  args: object,
): Promise<unknown> {
  try {
    const result = await server.executeServerCommand(command, [args]);
    await applyReturnedEdit(server, result);
    const message = resultMessage(result);
    if (message) {
      vscode.window.showInformationMessage(`Plumbline: ${message}`);
    }
    return result;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    output.error(`${command} failed: ${message}`);
    const showOutput = 'Show Output';
    if ((await vscode.window.showErrorMessage(`Plumbline: ${message}`, showOutput)) === showOutput) {
      output.show(true);
    }
    return undefined;
  }
}

/** Servers normally apply their edits through workspace/applyEdit; a WorkspaceEdit returned instead is applied here. */
async function applyReturnedEdit(server: ServerManager, result: unknown): Promise<void> {
  const client = server.current;
  if (!client || !result || typeof result !== 'object') {
    return;
  }
  const r = result as { changes?: unknown; documentChanges?: unknown; edit?: unknown };
  const edit = r.changes || r.documentChanges ? r : r.edit && typeof r.edit === 'object' ? r.edit : undefined;
  if (edit) {
    const converted = await client.protocol2CodeConverter.asWorkspaceEdit(edit as never);
    if (converted) {
      await vscode.workspace.applyEdit(converted);
    }
  }
}

function activeFileUri(): string | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && doc.uri.scheme === 'file' ? doc.uri.toString() : undefined;
}

/** A short message the server may return from a command: {"message"} or {"applied": false, "reason"}. */
function resultMessage(result: unknown): string | undefined {
  if (!result || typeof result !== 'object') {
    return undefined;
  }
  const r = result as { message?: unknown; applied?: unknown; reason?: unknown };
  if (typeof r.message === 'string') {
    return r.message;
  }
  if (r.applied === false && typeof r.reason === 'string' && r.reason) {
    return `nothing applied (${r.reason})`;
  }
  return undefined;
}

/** Rule documentation returned by plumbline.showRuleDocs: a markdown string or {markdown|documentation|contents}. */
function docText(result: unknown): string | undefined {
  if (typeof result === 'string') {
    return result;
  }
  if (result && typeof result === 'object') {
    for (const key of ['markdown', 'documentation', 'contents', 'value']) {
      const v = (result as Record<string, unknown>)[key];
      if (typeof v === 'string') {
        return v;
      }
    }
  }
  return undefined;
}

function diagnosticCode(d: vscode.Diagnostic): string | undefined {
  const c = d.code;
  if (c === undefined) {
    return undefined;
  }
  return typeof c === 'object' ? String(c.value) : String(c);
}

/** The code under the cursor, else a pick among the workspace's findings (or a typed code). */
async function pickRuleCode(): Promise<string | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor) {
    const here = vscode.languages
      .getDiagnostics(editor.document.uri)
      .filter((d) => d.source === DIAGNOSTIC_SOURCE && d.range.contains(editor.selection.active));
    const code = here.map(diagnosticCode).find((c) => c);
    if (code) {
      return code;
    }
  }
  const counts = new Map<string, { n: number; message: string }>();
  for (const [, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const d of diagnostics) {
      const code = d.source === DIAGNOSTIC_SOURCE ? diagnosticCode(d) : undefined;
      if (code) {
        const entry = counts.get(code) ?? { n: 0, message: d.message };
        entry.n++;
        counts.set(code, entry);
      }
    }
  }
  const quickPick = vscode.window.createQuickPick();
  quickPick.title = 'Plumbline: Show Rule Documentation';
  quickPick.placeholder = 'A rule code, for example DB003';
  const base: vscode.QuickPickItem[] = [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, { n, message }]) => ({ label: code, description: `${n} in the workspace`, detail: message }));
  quickPick.items = base;
  quickPick.onDidChangeValue((value) => {
    const typed = value.trim().toUpperCase();
    quickPick.items =
      typed && !base.some((i) => i.label === typed) ? [{ label: typed, description: 'look up this code' }, ...base] : base;
  });
  return new Promise((resolve) => {
    quickPick.onDidAccept(() => {
      resolve(quickPick.selectedItems[0]?.label ?? (quickPick.value.trim().toUpperCase() || undefined));
      quickPick.hide();
    });
    quickPick.onDidHide(() => {
      resolve(undefined);
      quickPick.dispose();
    });
    quickPick.show();
  });
}
