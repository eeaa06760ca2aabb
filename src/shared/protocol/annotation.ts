// The messages between the annotation panel's controller (extension host) and its webview app
// (webview/annotation/main.ts). Both sides import these types; nothing here imports vscode.
import type { AnnotationReport, CalibrationReport } from '../reports/annotation';
import type { Ready, ReportToWebview } from './panel';

export const ANNOTATION_VIEW_TYPE = 'preflightAnnotation';

/** What the panel shows; also its persisted webview state (getState/setState, serializer). */
export interface AnnotationView {
  /** the labels file (URI string) */
  file: string;
  fileName: string;
  /** the human test used (URI string), if any */
  humanFile?: string;
  humanFileName?: string;
  /** how the human test was found */
  humanSource?: 'remembered' | 'sibling' | 'picked';
  report: AnnotationReport;
  /** the calibration of the LLM's confidences (labels written by "Annotate with Local Model…") */
  calibration?: CalibrationReport;
  generatedAt: string;
}

export type ToWebview = ReportToWebview<AnnotationView>;

export type FromWebview =
  | Ready
  /** reveal the rows of one confusion cell (gold level index, LLM level index) */
  | { type: 'revealCell'; gold: number; llm: number }
  | { type: 'chooseHumanTest' }
  | { type: 'forgetHumanTest' }
  | { type: 'changeColumns' }
  /** set (or clear) this file's label order, lowest first */
  | { type: 'changeLevels' }
  | { type: 'rerun' }
  /** what the app drew, for the end-to-end test state */
  | { type: 'rendered'; summary: RenderSummary };

export interface RenderSummary {
  shares: number;
  matrixCells: number;
  charts: number;
  theme: string;
  notComputed: number;
  /** non-empty confidence buckets drawn (0 without a calibration section) */
  calibrationBuckets: number;
}
