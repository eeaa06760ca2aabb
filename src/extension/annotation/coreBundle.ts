// What the annotation feature uses of src/core/annotation (and csv-parse under it), bundled apart
// as dist/annotationCore.js (scripts/build.mjs) and required on the feature's first use through
// ./core.ts: a third of the extension bundle stays off activation. No `vscode` here.
export { analyzeAnnotationsInWorker } from '../../core/annotation/analyzeInWorker';
export { linesOfCell } from '../../core/annotation/analyze';
export { calibrationOf } from '../../core/annotation/calibration';
export { columnKey, firstRecordEnd, headerOf } from '../../core/annotation/csv';
export { errorMarks } from '../../core/annotation/errorMarks';
export {
  annotateWithModel,
  DEFAULT_SHOTS,
  defaultOutputPath,
  detectLevels,
  LLM_CONFIDENCE_COLUMN,
  LLM_LABEL_COLUMN,
  readHeader,
  suggestColumns,
} from '../../core/annotation/llmAnnotate';
export { detectLabelColumns } from '../../core/annotation/readLabels';
