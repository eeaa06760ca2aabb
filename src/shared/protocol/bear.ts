// Messages between the BEAR panels' extension-side controllers and their webview app
// (webview/bear/main.ts). One app serves both panels; the page's data-view attribute picks the view.
import type { DataIssue, FormIssue, LaunchForm, MetricsLine, RunState } from '../reports/bear';

export const BEAR_FORM_VIEW_TYPE = 'preflightBearLaunch';
export const BEAR_DASHBOARD_VIEW_TYPE = 'preflightBearDashboard';

export type FormToWebview =
  | { type: 'init'; form: LaunchForm; python: string; trusted: boolean }
  | { type: 'issues'; formIssues: FormIssue[]; dataIssues: DataIssue[]; summary?: string }
  | { type: 'picked'; field: keyof LaunchForm; value: string }
  | { type: 'launched'; runId: string }
  | { type: 'audit'; state: 'running' | 'done' | 'failed'; text: string };

export type FormFromWebview =
  | { type: 'ready' }
  | { type: 'validate'; form: LaunchForm }
  | { type: 'launch'; form: LaunchForm }
  | { type: 'audit'; form: LaunchForm }
  | { type: 'pick'; field: keyof LaunchForm; folder: boolean };

export interface DashboardHeader {
  runId: string;
  name: string;
  state: RunState;
  loss?: string;
  outputDir: string;
  error?: string;
}

export type DashboardToWebview =
  { type: 'reset'; header: DashboardHeader; lines: MetricsLine[] } | { type: 'append'; lines: MetricsLine[] } | { type: 'state'; header: DashboardHeader };

export type DashboardFromWebview =
  { type: 'ready' } | { type: 'stop' } | { type: 'resume' } | { type: 'openCheckpoint'; path: string } | { type: 'openConfig' };
