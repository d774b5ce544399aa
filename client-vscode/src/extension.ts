// Plumbline for VS Code: starts `plumbline serve --stdio` and adds the commands and the status bar around it.
import * as vscode from 'vscode';
import { ApiKeyStore } from './apiKey';
import { COMMANDS, registerCommands } from './commands';
import { RESTART_SETTINGS, SECTION } from './config';
import { onInterpreterChanged } from './pythonExtension';
import { ServerManager } from './server';
import { StatusBar } from './statusBar';

let manager: ServerManager | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Plumbline', { log: true });
  const status = new StatusBar(COMMANDS.showOutput);
  const apiKey = new ApiKeyStore(context.secrets);
  const server = new ServerManager(output, status, apiKey);
  manager = server;
  context.subscriptions.push(output, status, { dispose: () => void server.dispose() });

  output.info(`Plumbline ${context.extension.packageJSON.version} activated (VS Code ${vscode.version}).`);
  registerCommands(context, server, apiKey, output);

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RESTART_SETTINGS.some((key) => e.affectsConfiguration(key))) {
        void server.restart('settings changed');
      } else if (e.affectsConfiguration(SECTION)) {
        output.info('Settings changed; the server gets them through workspace/didChangeConfiguration.');
      }
    }),
    apiKey.onDidChange(() => void server.restart('API key changed')),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void server.restart('workspace trusted')),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void server.restart('workspace folders changed')),
  );

  // The Python extension may be slow to activate: listen for interpreter changes without holding activation.
  void onInterpreterChanged(() => {
    if (!vscode.workspace.getConfiguration(SECTION).get<string>('path')) {
      void server.restart('Python interpreter changed');
    }
  }).then((d) => d && context.subscriptions.push(d));

  void server.start();
}

export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}
