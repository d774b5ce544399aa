// The Anthropic API key lives in VS Code's SecretStorage, never in settings. The server gets it in its
// environment at spawn (ANTHROPIC_API_KEY).
import * as vscode from 'vscode';

const SECRET_KEY = 'plumbline.anthropicApiKey';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(): Thenable<string | undefined> {
    return this.secrets.get(SECRET_KEY);
  }

  /** Fires when the key is set or cleared (in this window or another one). */
  onDidChange(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((e) => {
      if (e.key === SECRET_KEY) {
        listener();
      }
    });
  }

  /** Asks for the key; true when one was stored. */
  async prompt(): Promise<boolean> {
    const value = await vscode.window.showInputBox({
      title: 'Plumbline: Set Anthropic API Key',
      prompt: 'The key the Plumbline agent uses. It is kept in VS Code\'s secret storage and given to the server only.',
      placeHolder: 'sk-ant-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() && !/\s/.test(v.trim()) ? undefined : 'Paste an API key (no spaces).'),
    });
    if (!value?.trim()) {
      return false;
    }
    await this.secrets.store(SECRET_KEY, value.trim());
    vscode.window.showInformationMessage('Plumbline: API key saved. The server restarts to pick it up.');
    return true;
  }

  async clear(): Promise<void> {
    const had = await this.get();
    await this.secrets.delete(SECRET_KEY);
    vscode.window.showInformationMessage(
      had ? 'Plumbline: API key cleared. The server restarts without it.' : 'Plumbline: no API key was stored.',
    );
  }

  /** A key from SecretStorage or, failing that, from the editor's own environment. */
  async available(): Promise<boolean> {
    return !!(await this.get()) || !!process.env.ANTHROPIC_API_KEY || !!process.env.ANTHROPIC_AUTH_TOKEN;
  }
}
