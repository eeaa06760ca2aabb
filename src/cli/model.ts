// The model of a model-based command (mdf, generate, inspect, ...): `--model DIR` or, without it,
// the bundled demo model; a checkpoint is built once into the shared cache. Says on stderr when the
// demo model is used, so that no one mistakes its forecast for their base model's.
import type { InferenceModel } from '../core/model/api';
import { buildModel } from '../core/model/build';
import { DEFAULT_MODEL_NOTE, ReadyModel, WeightFormat, dtypeFor, ensureBuilt, resolveModelSource } from '../core/model/modelSource';
import { MODEL_SETTINGS } from '../core/settings/schema';
import { choiceFlag } from './args';
import { CliIO, UsageError } from './command';

export const MODEL_FLAG_HELP = `  --model DIR           a Hugging Face checkpoint (built once into ~/.cache/preflight/models) or a built model
                        (preflight build-model). Default: the bundled demo model preflight-tiny`;

export function parseProvider(value: string | undefined): 'auto' | 'cpu' | 'cuda' {
  return choiceFlag(value, 'provider', MODEL_SETTINGS.provider.enum as readonly ('auto' | 'cpu' | 'cuda')[], MODEL_SETTINGS.provider.default);
}

export const WEIGHTS_FLAG_HELP = `  --weights float|int8  the weight format a checkpoint is built in (default ${MODEL_SETTINGS.weights.default}): int8 = int8 linear layers on the CPU,
                        faster, small differences from fp32 (docs/engine.md, Weight formats)`;

export function parseWeights(value: string | undefined): WeightFormat {
  return choiceFlag(value, 'weights', MODEL_SETTINGS.weights.enum as readonly WeightFormat[], MODEL_SETTINGS.weights.default);
}

/** Resolves and builds the model (no ONNX Runtime needed). Errors are one-line usage errors. */
export async function readyModel(
  model: string | undefined,
  io: CliIO,
  provider: 'auto' | 'cpu' | 'cuda' = 'auto',
  weights: WeightFormat = MODEL_SETTINGS.weights.default,
): Promise<ReadyModel> {
  try {
    const source = resolveModelSource(model);
    if (source.isDefault) io.stderr(`Model: ${DEFAULT_MODEL_NOTE}.\n`);
    let shown = -1;
    return await ensureBuilt(source, buildModel, {
      dtype: dtypeFor(provider, weights),
      onProgress: (fraction, message) => {
        if (Math.floor(fraction * 10) !== shown) io.stderr(`${message}\n`);
        shown = Math.floor(fraction * 10);
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** readyModel, then opened on ONNX Runtime in this process. */
export async function openCliModel(
  model: string | undefined,
  io: CliIO,
  options: { provider?: 'auto' | 'cpu' | 'cuda'; threads?: number; weights?: WeightFormat } = {},
): Promise<{ model: InferenceModel; ready: ReadyModel }> {
  const ready = await readyModel(model, io, options.provider ?? 'auto', options.weights);
  try {
    // loaded on use: `build-model` must work where onnxruntime-node is not installed
    const { openModel } = await import('../core/model/runtime');
    const opened = await openModel(ready.dir, { provider: options.provider ?? 'auto', threads: options.threads ?? 0, onNotice: (m) => io.stderr(`${m}\n`) });
    return { model: opened, ready };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
