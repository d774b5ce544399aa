// Owns the language client: discovers the server, spawns it with the right environment, restarts it.
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { ApiKeyStore } from './apiKey';
import { PlumblineSettings, SECTION, initializationOptions, isTrusted, readSettings } from './config';
import { ServerLaunch, discoverServer, reportDiscoveryFailure } from './serverDiscovery';
import { ProgressValue, StatusBar } from './statusBar';

export const CLIENT_ID = 'plumbline';
export const CLIENT_NAME = 'Plumbline';

/** Server commands that start the agent (and so spend the user's key). */
export const AGENT_COMMANDS = new Set(['plumbline.fixWithAgent', 'plumbline.implementEndpoint']);

export const LANGUAGES = ['python', 'sql', 'javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'go'];

const WATCHED_FILES =
  '**/{*.py,*.sql,*.js,*.jsx,*.mjs,*.cjs,*.ts,*.tsx,*.go,*.prisma,pyproject.toml,plumbline.toml,alembic.ini,' +
  'package.json,go.mod,.gitignore}';

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private launch: ServerLaunch | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopping = false;
  /** The current client reached Running at least once (restarts on crash only make sense then). */
  private runningOnce = false;
  private crashes: number[] = [];
  private readonly watcher: vscode.FileSystemWatcher;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly status: StatusBar,
    private readonly apiKey: ApiKeyStore,
  ) {
    this.watcher = vscode.workspace.createFileSystemWatcher(WATCHED_FILES);
  }

  /** The running client, if any. */
  get current(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(reason = 'restart requested'): Promise<void> {
    return this.enqueue(async () => {
      this.output.info(`Restarting the server: ${reason}`);
      await this.doStop();
      await this.doStart();
    });
  }

  /** Runs a server command through workspace/executeCommand. */
  async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.current ?? (await this.start(), this.current);
    if (!client) {
      throw new Error('the Plumbline server is not running (see "Plumbline: Show Output")');
    }
    const done = AGENT_COMMANDS.has(command) ? this.status.trackAgentRequest() : undefined;
    try {
      return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    } finally {
      done?.();
    }
  }

  private enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch((e) => this.output.error(`${e instanceof Error ? e.stack ?? e.message : e}`));
    return this.queue;
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    const settings = readSettings();
    if (!settings.enable) {
      this.output.info('Plumbline is disabled (plumbline.enable is false).');
      this.status.setState('disabled');
      return;
    }
    this.status.setState('starting');
    const found = await discoverServer(settings, (m) => this.output.info(m));
    if (found.kind !== 'found') {
      const why =
        found.kind === 'notInstalled'
          ? `plumbline is not installed for ${found.python}`
          : found.kind === 'badPath'
            ? `plumbline.path "${found.path}" is ${found.reason}`
            : 'no Python interpreter found';
      this.output.error(`Cannot start the server: ${why}`);
      this.status.setState('error', `Cannot start the server: ${why}`);
      void reportDiscoveryFailure(found, {
        showOutput: () => this.output.show(true),
        restart: () => void this.restart('after installing'),
      });
      return;
    }
    this.launch = found.launch;
    const env = await this.serverEnvironment(settings);
    const serverOptions: ServerOptions = {
      command: found.launch.command,
      args: found.launch.args,
      transport: TransportKind.stdio,
      options: { cwd: found.launch.cwd, env },
    };
    this.output.info(
      `Starting: ${[found.launch.command, ...found.launch.args, '--stdio'].join(' ')} ` +
        `(${found.launch.origin}; agent ${isTrusted() ? (env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN ? 'key set' : 'no key') : 'off: untrusted workspace'})`,
    );
    this.runningOnce = false;
    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, this.clientOptions(settings));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.runningOnce = true;
        this.status.setState('running', this.describeLaunch());
      } else if (e.newState === State.Stopped && !this.stopping && this.client === client) {
        this.status.setState('error', 'The server stopped. Run "Plumbline: Restart Server".');
      }
    });
    this.client = client;
    try {
      await client.start();
      this.output.info('The server is running.');
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.output.error(`The server failed to start: ${message}`);
      this.status.setState('error', `The server failed to start: ${message}`);
      this.client = undefined;
      try {
        await client.dispose(2000);
      } catch {
        // already gone
      }
      // The language client has already shown "couldn't create connection to server" with "Go to output".
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) {
      return;
    }
    this.stopping = true;
    try {
      await client.dispose(5000);
    } catch (e) {
      this.output.warn(`Stopping the server: ${e instanceof Error ? e.message : e}`);
    } finally {
      this.stopping = false;
      this.status.setState('stopped');
    }
  }

  private describeLaunch(): string {
    if (!this.launch) {
      return '';
    }
    const version = this.launch.version ? ` ${this.launch.version}` : '';
    return `Server${version}: ${this.launch.command} ${this.launch.args.join(' ')} (${this.launch.origin})`;
  }

  private async serverEnvironment(settings: PlumblineSettings): Promise<NodeJS.ProcessEnv> {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1' };
    if (!isTrusted()) {
      // The agent is off in untrusted workspaces: no credentials reach the server, and Python does not put
      // the current folder on sys.path.
      delete env.ANTHROPIC_API_KEY;
      delete env.ANTHROPIC_AUTH_TOKEN;
      env.PYTHONSAFEPATH = '1';
      return env;
    }
    const key = await this.apiKey.get();
    if (key) {
      env.ANTHROPIC_API_KEY = key;
    }
    if (settings.agentModel) {
      env.PLUMBLINE_MODEL = settings.agentModel;
    }
    return env;
  }

  private clientOptions(settings: PlumblineSettings): LanguageClientOptions {
    const status = this.status;
    const apiKey = this.apiKey;
    return {
      documentSelector: LANGUAGES.map((language) => ({ scheme: 'file', language })),
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      // Logged only: the failed start() that follows shows one notification with "Go to output".
      initializationFailedHandler: (error) => {
        this.output.error(`The server did not initialize: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      initializationOptions: initializationOptions(settings),
      synchronize: { configurationSection: SECTION, fileEvents: this.watcher },
      errorHandler: {
        error: (_error, _message, count) => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        }),
        closed: () => {
          // A server that never got going (e.g. a crash at import) is not restarted: the output says why.
          if (this.stopping || !this.runningOnce) {
            return { action: CloseAction.DoNotRestart, handled: true };
          }
          const now = Date.now();
          this.crashes = [...this.crashes.filter((t) => now - t < 180_000), now];
          if (this.crashes.length > 4) {
            return {
              action: CloseAction.DoNotRestart,
              message: 'The Plumbline server stopped 5 times in 3 minutes and will not be restarted. See "Plumbline: Show Output".',
            };
          }
          this.output.warn('The server stopped; restarting it.');
          return { action: CloseAction.Restart, handled: true };
        },
      },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          status.onProgress(token, params as ProgressValue);
          next(token, params);
        },
        executeCommand: async (command, args, next) => {
          if (AGENT_COMMANDS.has(command)) {
            if (!isTrusted()) {
              void vscode.window.showWarningMessage(
                'Plumbline: the agent is off in untrusted workspaces. Trust this workspace to use it.',
              );
              return undefined;
            }
            if (!(await apiKey.available())) {
              const set = 'Set API Key';
              const pick = await vscode.window.showWarningMessage(
                'Plumbline: the agent needs an Anthropic API key.',
                set,
              );
              if (pick === set) {
                await vscode.commands.executeCommand('plumbline.setApiKey');
              }
              return undefined;
            }
          }
          if (AGENT_COMMANDS.has(command)) {
            const done = status.trackAgentRequest();
            try {
              return await next(command, args);
            } finally {
              done();
            }
          }
          return next(command, args);
        },
        provideCodeActions: async (document, range, context, token, next) => {
          const actions = await next(document, range, context, token);
          if (!actions || isTrusted()) {
            return actions;
          }
          return actions.filter((a) => {
            const command = a instanceof vscode.CodeAction ? a.command?.command : (a as vscode.Command).command;
            return !command || !AGENT_COMMANDS.has(command);
          });
        },
      },
    };
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.watcher.dispose();
  }
}
