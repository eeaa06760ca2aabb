// The model layer's public surface: the contract (api.ts), the builder, the runtime, the tokenizer.
export * from './api';
export { buildModel, readManifest, sourceHash, BUILDER_VERSION, MANIFEST_FILE, MODEL_FILE, DATA_FILE } from './build';
export type { BuildOptions, BuildProgress, BuildResult, ModelManifest } from './build';
export { openCheckpoint, parseConfig, SUPPORTED_ARCHITECTURES } from './checkpoint';
export type { Checkpoint, ModelConfig } from './checkpoint';
export { openModel, OrtInferenceModel } from './runtime';
export { listModels, describeModelDir, isCheckpointDir, formatParameters, buildFolderName } from './catalog';
export type { ModelEntry } from './catalog';
export { loadTokenizer } from './tokenizer';
export { sampleToken, logSoftmax, argmax } from './sampling';
