// `preflight generate [--model <dir>] --prompt STR [--max-tokens N] [--seed S] [--temperature T] [--top-p P] [--chat]`
import { CliCommand, EXIT_OK } from '../command';
import { intFlag, numberFlag, parseFlags, required, seedFlag, threadsFlag } from '../args';
import { MODEL_FLAG_HELP, WEIGHTS_FLAG_HELP, openCliModel, parseProvider, parseWeights } from '../model';

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Generate text with a model (default: the bundled demo model)',
  usage: [
    'preflight generate [--model <dir>] --prompt STR [--max-tokens N] [--seed S] [--temperature T] [--top-p P] [--chat] [--threads N] [--provider auto|cpu|cuda] [--weights float|int8] [--json]',
    '',
    MODEL_FLAG_HELP,
    WEIGHTS_FLAG_HELP,
    '  --temperature  0 (default) is greedy',
    "  --chat         wrap the prompt as one user turn with the model's chat template",
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, {
      model: { type: 'string' },
      prompt: { type: 'string' },
      'max-tokens': { type: 'string' },
      seed: { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      chat: { type: 'boolean' },
      threads: { type: 'string' },
      provider: { type: 'string' },
      weights: { type: 'string' },
      json: { type: 'boolean' },
    });
    const weights = parseWeights(values.weights);
    const prompt = required(values.prompt, '--prompt STR', { allowEmpty: true });
    const sampling = {
      maxTokens: intFlag(values['max-tokens'], 'max-tokens', 64, { min: 1, max: 1_000_000 }),
      temperature: numberFlag(values.temperature, 'temperature', 0, { min: 0 }),
      topP: numberFlag(values['top-p'], 'top-p', 1, { min: 0, max: 1, minExclusive: true }),
      seed: seedFlag(values.seed, 0),
    };
    const { model } = await openCliModel(values.model, io, { provider: parseProvider(values.provider), threads: threadsFlag(values.threads), weights });
    try {
      const t = model.tokenizer;
      const ids = values.chat
        ? t.encode(t.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true }), { addSpecialTokens: false })
        : t.encode(prompt);
      const started = performance.now();
      const [out] = await model.generate([ids], sampling);
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
