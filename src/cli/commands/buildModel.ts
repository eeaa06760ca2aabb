// `preflight build-model <hf-dir> --out <dir> [--dtype fp32|fp16] [--force]`
import { parseArgs } from 'node:util';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { buildModel } from '../../core/model/build';

/** node:util parseArgs with the CLI's error convention (bad usage -> UsageError -> exit 2). */
export function parseFlags<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

export function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

export const buildModelCommand: CliCommand = {
  name: 'build-model',
  summary: 'Turn a Hugging Face checkpoint folder into an MDF-ready ONNX model',
  usage: [
    'preflight build-model <hf-dir> --out <dir> [--dtype fp32|fp16] [--force] [--json]',
    '',
    '  <hf-dir>   config.json, *.safetensors (+ model.safetensors.index.json), tokenizer.json, tokenizer_config.json',
    '  --out      where to write model.onnx, model.onnx.data, the tokenizer files and manifest.json',
    '  --dtype    fp32 (CPU, default) or fp16 (CUDA)',
    '  --force    rebuild even if --out holds an up-to-date build of the same source',
    'Supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM (and the',
    'language model of Gemma3ForConditionalGeneration); F32/F16/BF16 weights.',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(args, { out: { type: 'string' }, dtype: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UsageError('expected one checkpoint folder');
    if (!values.out) throw new UsageError('--out <dir> is required');
    const dtype = values.dtype ?? 'fp32';
    if (dtype !== 'fp32' && dtype !== 'fp16') throw new UsageError(`--dtype must be fp32 or fp16, got '${dtype}'`);
    let lastPrinted = -1;
    let result;
    try {
      result = await buildModel(positionals[0], values.out, {
        dtype,
        force: values.force,
        onProgress: ({ fraction, message }) => {
          const pct = Math.floor(fraction * 100);
          if (pct !== lastPrinted && (pct % 5 === 0 || fraction === 1)) {
            lastPrinted = pct;
            io.stderr(`[${String(pct).padStart(3)}%] ${message}\n`);
          }
        },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const m = result.manifest;
    if (values.json) {
      io.stdout(`${JSON.stringify({ out: values.out, reused: result.reused, manifest: m }, null, 2)}\n`);
    } else {
      io.stdout(
        `${result.reused ? 'up to date' : 'built'}: ${values.out}\n` +
          `  ${m.architecture} (${m.info.family}), ${m.parameters >= 1e6 ? `${(m.parameters / 1e6).toFixed(1)}M` : m.parameters.toLocaleString('en-US')} parameters, ${m.info.numLayers} layers, hidden ${m.info.hiddenSize}, ` +
          `${m.info.numHeads} heads / ${m.info.numKvHeads} kv heads, vocab ${m.info.vocabSize}, ${m.info.dtype}\n`,
      );
    }
    return EXIT_OK;
  },
};
