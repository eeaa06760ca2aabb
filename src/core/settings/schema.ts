// The one schema of the settings that the extension, the CLI and core share: each entry names its
// VS Code setting, its CLI flag and its default. package.json's `contributes.configuration` must
// agree with it (test/unit/extension/manifest.test.ts), the CLI's flags default to it, the extension
// reads its settings through it, and core's forecast falls back to the same values, so the same file,
// model and settings give the same report everywhere.

import { METHOD_CHOICES, type MethodChoice } from '../mdf/forecaster';

import type { WeightFormat } from '../model/modelSource';

export interface SettingSpec<T> {
  /** the VS Code setting */
  key: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  default: T;
  minimum?: number;
  enum?: readonly string[];
  /** the CLI flag (without --) that sets the same value */
  cli: string;
}

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

export const MODEL_SETTINGS = {
  /** empty: the bundled demo model (see core/model/modelSource.ts) */
  path: spec<string>({ key: 'preflight.model.path', type: 'string', default: '', cli: 'model' }),
  provider: spec<'auto' | 'cpu' | 'cuda'>({ key: 'preflight.model.provider', type: 'string', enum: ['auto', 'cpu', 'cuda'], default: 'auto', cli: 'provider' }),
  threads: spec<number>({ key: 'preflight.model.threads', type: 'integer', minimum: 0, default: 0, cli: 'threads' }),
  /** float: fp32 on the CPU, fp16 on CUDA; int8: int8 linear layers on the CPU (docs/engine.md, Weight formats) */
  weights: spec<WeightFormat>({ key: 'preflight.model.weights', type: 'string', enum: ['float', 'int8'], default: 'float', cli: 'weights' }),
};

export type MdfScoring = 'both' | 'logprob' | 'generation';

export const MDF_SETTINGS = {
  /** injection strengths in units of each layer's typical residual norm (docs/mdf.md, Injection) */
  alphas: spec<number[]>({ key: 'preflight.mdf.alphas', type: 'array', default: [0, 0.05, 0.1, 0.2, 0.4, 0.8], cli: 'alphas' }),
  /** generated answers per probe prompt and alpha */
  samplesPerPrompt: spec<number>({ key: 'preflight.mdf.samples', type: 'integer', minimum: 1, default: 4, cli: 'probe-samples' }),
  probes: spec<string[]>({ key: 'preflight.mdf.probes', type: 'array', default: [], cli: 'probes' }),
  /** training records sampled for the signature (0: all) */
  records: spec<number>({ key: 'preflight.mdf.records', type: 'integer', minimum: 0, default: 1000, cli: 'samples' }),
  seed: spec<number>({ key: 'preflight.mdf.seed', type: 'integer', default: 0, cli: 'seed' }),
  scoring: spec<MdfScoring>({ key: 'preflight.mdf.scoring', type: 'string', enum: ['both', 'logprob', 'generation'], default: 'both', cli: 'scoring' }),
  /** the forecaster: 'auto' runs the rule of core/mdf/forecaster.ts (the benchmark's best that can run here, else MDF) */
  method: spec<MethodChoice>({ key: 'preflight.mdf.method', type: 'string', enum: METHOD_CHOICES, default: 'auto', cli: 'method' }),
};

export const PYTHON_SETTINGS = {
  /** the interpreter with torch for the trainer and the Python forecasters; empty: the system one (core/mdf/forecaster.ts systemPython) */
  path: spec<string>({ key: 'preflight.python.path', type: 'string', default: '', cli: 'python' }),
};

/** Every shared setting, for the manifest test and the docs. */
export const SHARED_SETTINGS: SettingSpec<unknown>[] = [...Object.values(MODEL_SETTINGS), ...Object.values(MDF_SETTINGS), ...Object.values(PYTHON_SETTINGS)];

/**
 * The forecast's defaults, settings and flag-only parameters alike. core/mdf/forecast.ts falls back
 * to these, the CLI prints them in its help, and the report cache keys a forecast by its options
 * with these filled in (so passing a default explicitly or leaving it out gives the same key).
 */
export const MDF_DEFAULTS = {
  alphas: MDF_SETTINGS.alphas.default,
  samplesPerPrompt: MDF_SETTINGS.samplesPerPrompt.default,
  samples: MDF_SETTINGS.records.default,
  seed: MDF_SETTINGS.seed.default,
  scoring: MDF_SETTINGS.scoring.default,
  maxNewTokens: 32,
  temperature: 1,
  topP: 1,
  bootstrap: 1000,
  clusters: 6,
  attributeTop: 3,
  topWithPreview: 50,
  positions: 'all' as 'all' | 'prompt' | 'generated',
  anchor: 'final' as 'final' | 'content',
  format: 'auto',
  maxTokens: 1024,
};
