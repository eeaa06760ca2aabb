// `preflight build-model <hf-dir> --out <dir> [--dtype fp32|fp16|int8] [--force]`
import { choiceFlag, parseFlags, required } from '../args';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { buildModel } from '../../core/model/build';

export const buildModelCommand: CliCommand = {
  name: 'build-model',
  summary: 'Turn a Hugging Face checkpoint folder into an MDF-ready ONNX model',
  usage: [
    'preflight build-model <hf-dir> --out <dir> [--dtype fp32|fp16|int8] [--force] [--json]',
    '',
    '  <hf-dir>   config.json, *.safetensors (+ model.safetensors.index.json), tokenizer.json, tokenizer_config.json',
    '  --out      where to write model.onnx, model.onnx.data, the tokenizer files and manifest.json',
    '  --dtype    fp32 (CPU, default), fp16 (CUDA) or int8 (int8 linear layers, CPU; docs/engine.md, Weight formats)',
    '  --force    rebuild even if --out holds an up-to-date build of the same source',
    'Supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM (and the',
    'language model of Gemma3ForConditionalGeneration); F32/F16/BF16 weights.',
  ].join('\n'),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      { out: { type: 'string' }, dtype: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
      { positionals: true },
    );
    if (positionals.length !== 1) throw new UsageError('expected one checkpoint folder');
    const out = required(values.out, '--out <dir>');
    const dtype = choiceFlag(values.dtype, 'dtype', ['fp32', 'fp16', 'int8'] as const, 'fp32');
    let lastPrinted = -1;
    let result;
    try {
      result = await buildModel(positionals[0], out, {
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
      io.stdout(`${JSON.stringify({ out, reused: result.reused, manifest: m }, null, 2)}\n`);
    } else {
      io.stdout(
        `${result.reused ? 'up to date' : 'built'}: ${out}\n` +
          `  ${m.architecture} (${m.info.family}), ${m.parameters >= 1e6 ? `${(m.parameters / 1e6).toFixed(1)}M` : m.parameters.toLocaleString('en-US')} parameters, ${m.info.numLayers} layers, hidden ${m.info.hiddenSize}, ` +
          `${m.info.numHeads} heads / ${m.info.numKvHeads} kv heads, vocab ${m.info.vocabSize}, ${m.info.dtype}\n`,
      );
    }
    return EXIT_OK;
  },
};
