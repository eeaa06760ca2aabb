// Messages between the MDF report panel's controller (extension host) and its webview app
// (webview/mdf/main.ts). Both sides import these types; nothing here imports vscode.
import type { MdfReport } from '../reports/mdf';
import type { Ready, ReportToWebview } from './panel';

export const MDF_VIEW_TYPE = 'preflightMdf';

/** What the panel shows; also its persisted webview state (getState/setState and the serializer). */
export interface MdfView {
  /** the training file (URI string) */
  file: string;
  fileName: string;
  /** the report, with each attribution's record list cut to the top records */
  report: MdfReport;
  /** true when the whole report came from the cache (file and model unchanged) */
  reused: boolean;
  generatedAt: string;
}

export type ToWebview = ReportToWebview<MdfView>;

export type FromWebview =
  | Ready
  /** reveal a record's line in the editor */
  | { type: 'revealLine'; line: number }
  | { type: 'rerun' }
  /** what the app drew, for the end-to-end test state */
  | { type: 'rendered'; summary: MdfRenderSummary };

export interface MdfRenderSummary {
  charts: number;
  behaviours: number;
  records: number;
  theme: string;
  selected: string;
}

/** Keeps the top `top` records of each attribution so the view stays small enough to persist. */
export function viewOf(file: string, fileName: string, report: MdfReport, reused: boolean, top = 100): MdfView {
  return {
    file,
    fileName,
    reused,
    generatedAt: new Date().toISOString(),
    report: { ...report, attribution: report.attribution.map((a) => ({ ...a, records: a.records.slice(0, top) })) },
  };
}
