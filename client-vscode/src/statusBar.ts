// One status bar item: server state, workspace scan progress, the number of Plumbline findings and running
// agent jobs. A click opens the output.
import * as vscode from 'vscode';

export type ServerState = 'stopped' | 'starting' | 'running' | 'error' | 'disabled';

export const DIAGNOSTIC_SOURCE = 'plumbline';
const SCAN_TITLE = 'Plumbline: scanning';
const AGENT_TITLE_PREFIX = 'Plumbline agent';

interface Job {
  kind: 'scan' | 'agent' | 'other';
  title: string;
  message?: string;
  percentage?: number;
}

export type ProgressValue =
  | { kind: 'begin'; title: string; message?: string; percentage?: number }
  | { kind: 'report'; message?: string; percentage?: number }
  | { kind: 'end'; message?: string };

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly jobs = new Map<string, Job>();
  private state: ServerState = 'stopped';
  private detail = '';
  private findings = 0;
  private countTimer: NodeJS.Timeout | undefined;
  private localAgentRequests = 0;

  constructor(showOutputCommand: string) {
    this.item = vscode.window.createStatusBarItem('plumbline.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Plumbline';
    this.item.command = showOutputCommand;
    this.disposables.push(this.item);
    this.disposables.push(vscode.languages.onDidChangeDiagnostics(() => this.scheduleCount()));
    this.countFindings();
    this.render();
  }

  setState(state: ServerState, detail = ''): void {
    this.state = state;
    this.detail = detail;
    if (state !== 'running' && state !== 'starting') {
      this.jobs.clear();
    }
    this.render();
  }

  /** Feed every `$/progress` value the server sends (through the client's handleWorkDoneProgress middleware). */
  onProgress(token: string | number, value: ProgressValue): void {
    const key = String(token);
    if (value.kind === 'begin') {
      const kind = value.title.startsWith(SCAN_TITLE) ? 'scan' : value.title.startsWith(AGENT_TITLE_PREFIX) ? 'agent' : 'other';
      this.jobs.set(key, { kind, title: value.title, message: value.message, percentage: value.percentage });
    } else if (value.kind === 'report') {
      const job = this.jobs.get(key);
      if (job) {
        job.message = value.message ?? job.message;
        job.percentage = value.percentage ?? job.percentage;
      }
    } else {
      this.jobs.delete(key);
    }
    this.render();
  }

  /**
   * Marks an agent request in flight until the returned function is called. Shown only while the server
   * reports no agent progress of its own (so a job is not counted twice).
   */
  trackAgentRequest(): () => void {
    this.localAgentRequests++;
    this.render();
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.localAgentRequests--;
        this.render();
      }
    };
  }

  get findingCount(): number {
    return this.findings;
  }

  private scheduleCount(): void {
    if (this.countTimer) {
      return;
    }
    this.countTimer = setTimeout(() => {
      this.countTimer = undefined;
      this.countFindings();
      this.render();
    }, 150);
  }

  private countFindings(): void {
    let n = 0;
    for (const [, diagnostics] of vscode.languages.getDiagnostics()) {
      for (const d of diagnostics) {
        if (d.source === DIAGNOSTIC_SOURCE) {
          n++;
        }
      }
    }
    this.findings = n;
  }

  private render(): void {
    const item = this.item;
    item.backgroundColor = undefined;
    const jobs = [...this.jobs.values()];
    const scan = jobs.find((j) => j.kind === 'scan');
    const agents = jobs.filter((j) => j.kind === 'agent');
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = false;

    if (this.state === 'disabled') {
      item.hide();
      return;
    }
    const parts: string[] = [];
    switch (this.state) {
      case 'stopped':
        parts.push('$(circle-slash) Plumbline: stopped');
        tooltip.appendMarkdown('**Plumbline**: server stopped');
        break;
      case 'starting':
        parts.push('$(loading~spin) Plumbline');
        tooltip.appendMarkdown('**Plumbline**: starting the server');
        break;
      case 'error':
        parts.push('$(error) Plumbline: not running');
        item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        tooltip.appendMarkdown('**Plumbline**: the server is not running');
        break;
      case 'running':
        if (scan) {
          const pct = scan.percentage !== undefined ? ` ${Math.round(scan.percentage)}%` : '';
          parts.push(`$(sync~spin) Plumbline: scanning${pct}`);
          tooltip.appendMarkdown(`**Plumbline**: scanning the workspace${pct}`);
        } else {
          parts.push(`${this.findings > 0 ? '$(warning)' : '$(check)'} Plumbline: ${this.findings}`);
          tooltip.appendMarkdown(
            `**Plumbline**: ${this.findings} finding${this.findings === 1 ? '' : 's'} in the workspace`,
          );
        }
        break;
    }
    const agentCount = agents.length > 0 ? agents.length : this.localAgentRequests;
    if (agentCount > 0) {
      parts.push(`$(loading~spin) agent${agentCount > 1 ? ` ×${agentCount}` : ''}`);
      if (agents.length === 0) {
        tooltip.appendMarkdown('\n\n$(hubot) Plumbline agent: working');
      }
      for (const job of agents) {
        const pct = job.percentage !== undefined ? ` (${Math.round(job.percentage)}%)` : '';
        tooltip.appendMarkdown(`\n\n$(hubot) ${escape(job.title)}${job.message ? `: ${escape(job.message)}` : ''}${pct}`);
      }
    }
    if (this.detail) {
      tooltip.appendMarkdown(`\n\n${escape(this.detail)}`);
    }
    tooltip.appendMarkdown('\n\nClick to show the Plumbline output.');
    item.text = parts.join('  ');
    item.tooltip = tooltip;
    item.accessibilityInformation = { label: item.text.replace(/\$\([^)]*\)\s*/g, '') };
    item.show();
  }

  dispose(): void {
    if (this.countTimer) {
      clearTimeout(this.countTimer);
    }
    this.disposables.forEach((d) => d.dispose());
  }
}

function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
