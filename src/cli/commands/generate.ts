// `preflight generate --model <dir> --prompt STR [--max-tokens N] [--seed S] [--temperature T] [--top-p P] [--chat]`
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { numberFlag, parseFlags } from './buildModel';

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Generate text with a built model',
  usage: [
    'preflight generate --model <dir> --prompt STR [--max-tokens N] [--seed S] [--temperature T] [--top-p P] [--chat] [--threads N] [--provider auto|cpu|cuda] [--json]',
    '',
    '  --temperature  0 (default) is greedy',
    '  --chat         wrap the prompt as one user turn with the model\'s chat template',
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, {
      model: { type: 'string' }, prompt: { type: 'string' }, 'max-tokens': { type: 'string' }, seed: { type: 'string' },
      temperature: { type: 'string' }, 'top-p': { type: 'string' }, chat: { type: 'boolean' }, threads: { type: 'string' },
      provider: { type: 'string' }, json: { type: 'boolean' },
    });
    if (!values.model) throw new UsageError('--model <dir> is required');
    if (values.prompt === undefined) throw new UsageError('--prompt STR is required');
    const provider = (values.provider ?? 'auto') as 'auto' | 'cpu' | 'cuda';
    if (!['auto', 'cpu', 'cuda'].includes(provider)) throw new UsageError('--provider must be auto, cpu or cuda');
    let model;
    try {
      // loaded on use: `build-model` must work where onnxruntime-node is not installed
      const { openModel } = await import('../../core/model/runtime');
      model = await openModel(values.model, { provider, threads: numberFlag(values.threads, 'threads', 0), onNotice: (m) => io.stderr(`${m}\n`) });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    try {
      const t = model.tokenizer;
      const ids = values.chat
        ? t.encode(t.applyChatTemplate([{ role: 'user', content: values.prompt }], { addGenerationPrompt: true }), { addSpecialTokens: false })
        : t.encode(values.prompt);
      const started = performance.now();
      const [out] = await model.generate([ids], {
        maxTokens: numberFlag(values['max-tokens'], 'max-tokens', 64),
        temperature: numberFlag(values.temperature, 'temperature', 0),
        topP: numberFlag(values['top-p'], 'top-p', 1),
        seed: numberFlag(values.seed, 'seed', 0),
      });
      const seconds = (performance.now() - started) / 1000;
      const text = t.decode(out, { skipSpecialTokens: true });
      if (values.json) io.stdout(`${JSON.stringify({ promptIds: ids, ids: out, text, seconds, provider: model.info.provider })}\n`);
      else {
        io.stdout(`${text}\n`);
        io.stderr(`${out.length} tokens in ${seconds.toFixed(2)} s (${(out.length / seconds).toFixed(1)} tok/s, ${model.info.provider})\n`);
      }
      return EXIT_OK;
    } finally {
      await model.dispose();
    }
  },
};
