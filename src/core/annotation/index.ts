// Annotation error analysis (docs/annotation.md): public surface of src/core/annotation.
export * from './types';
export { analyzeAnnotations, linesOfCell } from './analyze';
export type { AnalyzeOptions, AnnotationAnalysis } from './analyze';
export { sampleHumanTest, allocate } from './sampler';
export type { SampleOptions, HumanTestSample } from './sampler';
export { formatReport, formatEstimate } from './format';
export { AnnotationInputError } from './errors';
export { cohenKappa, quadraticKappa, krippendorffAlpha, alphaFromCoincidence } from './agreement';
export { decompose, taskPart } from './decompose';
export { normalizeLabel, detectScale, explicitScale, KNOWN_SCALES } from './scale';
export type { LabelScale } from './scale';
export type { CsvSource } from './csv';
export type { LabelColumnOverrides } from './readLabels';
export type { HumanColumnOverrides } from './readHuman';
