// The interpreter selected in Microsoft's Python extension, when it is installed.
// Only the few members of its public API that Plumbline uses are typed here.
import * as vscode from 'vscode';

const PYTHON_EXTENSION_ID = 'ms-python.python';

interface EnvironmentPath {
  readonly id: string;
  readonly path: string;
}

interface ResolvedEnvironment {
  readonly executable: { readonly uri: vscode.Uri | undefined };
}

interface PythonExtensionApi {
  readonly environments: {
    getActiveEnvironmentPath(resource?: vscode.Uri | vscode.WorkspaceFolder): EnvironmentPath;
    resolveEnvironment(environment: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    readonly onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
}

export function isPythonExtensionInstalled(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

async function api(timeoutMs = 15000): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    const exports = ext.isActive ? ext.exports : await withTimeout(Promise.resolve(ext.activate()), timeoutMs);
    return exports?.environments ? exports : undefined;
  } catch {
    return undefined;
  }
}

/** The selected interpreter's executable for `resource`, or undefined (no extension, nothing selected, timeout). */
export async function selectedInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const py = await api();
  if (!py) {
    return undefined;
  }
  try {
    const active = py.environments.getActiveEnvironmentPath(resource);
    const env = await withTimeout(py.environments.resolveEnvironment(active), 15000);
    return env?.executable.uri?.fsPath ?? (active.path || undefined);
  } catch {
    return undefined;
  }
}

/** Calls `listener` when the user selects another interpreter in the Python extension. */
export async function onInterpreterChanged(listener: () => void): Promise<vscode.Disposable | undefined> {
  const py = await api();
  return py?.environments.onDidChangeActiveEnvironmentPath(() => listener());
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
