// `preflight inspect [--model <dir>] --text STR [--steer FILE --alpha A] [--positions all|prompt] --json`
// Prints what MDF reads from the model: the token ids, the logits at the last token, and each
// layer's residual output there (hidden_last), optionally with steering vectors injected.
import { readJsonFileSync } from '../../core/io/regularFile';
import { assertFiniteLogits, checkSteeringValues } from '../../core/model/finite';
import { CliCommand, EXIT_OK, UsageError } from '../command';
import { intFlag, numberFlag, parseFlags, required, threadsFlag } from '../args';
import { MODEL_FLAG_HELP, openCliModel } from '../model';

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: 'Print token ids, last logits and per-layer hidden states',
  usage: [
    'preflight inspect [--model <dir>] --text STR [--steer FILE --alpha A] [--top K] [--json]',
    '',
    MODEL_FLAG_HELP,
    '  --steer   JSON array of per-layer vectors ([numLayers][hiddenSize]); alpha * vector is added to',
    "            every layer's output at every position",
    '  --alpha   steering scale (default 1)',
    '  --top     without --json: how many top next tokens to list (default 5)',
  ].join('\n'),
  async run(args, io) {
    const { values } = parseFlags(args, {
      model: { type: 'string' },
      text: { type: 'string' },
      steer: { type: 'string' },
      alpha: { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean' },
      threads: { type: 'string' },
    });
    const text = required(values.text, '--text STR', { allowEmpty: true });
    const alpha = numberFlag(values.alpha, 'alpha', 1);
    const top = intFlag(values.top, 'top', 5, { min: 0 });
    const { model } = await openCliModel(values.model, io, { provider: 'cpu', threads: threadsFlag(values.threads) });
    try {
      const { numLayers: L, hiddenSize: E } = model.info;
      let vectors: Float32Array | undefined;
      if (values.steer) {
        let raw: unknown;
        try {
          raw = readJsonFileSync(values.steer, { maxBytes: 256 * 2 ** 20, what: 'steering file' });
        } catch (error) {
          throw new UsageError(`--steer ${values.steer}: ${error instanceof Error ? error.message : String(error)}`);
        }
        if (!Array.isArray(raw) || raw.length !== L || raw.some((v) => !Array.isArray(v) || v.length !== E)) {
          throw new UsageError(`--steer must hold a JSON array of ${L} vectors of ${E} numbers`);
        }
        const scaled = (raw as unknown[][]).flatMap((v) => v.map((x) => (typeof x === 'number' ? alpha * x : NaN)));
        try {
          checkSteeringValues(scaled, '--steer (times --alpha) value');
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        vectors = Float32Array.from(scaled);
      }
      const ids = model.tokenizer.encode(text);
      const out = await model.forward([ids], vectors ? { steering: { vectors } } : {});
      const logits = out.lastLogits[0];
      try {
        assertFiniteLogits(logits, 'inspect');
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const hidden = out.hiddenLast[0];
      const perLayer = Array.from({ length: L }, (_, l) => Array.from(hidden.subarray(l * E, (l + 1) * E)));
      if (values.json) {
        io.stdout(`${JSON.stringify({ model: model.info, tokenIds: ids, steered: Boolean(vectors), lastLogits: Array.from(logits), hiddenLast: perLayer })}\n`);
      } else {
        const best = Array.from(logits.keys())
          .sort((a, b) => logits[b] - logits[a])
          .slice(0, top);
        io.stdout(`tokens (${ids.length}): ${ids.join(' ')}\n`);
        io.stdout(`top next tokens: ${best.map((i) => `${JSON.stringify(model.tokenizer.decode([i]))} ${logits[i].toFixed(3)}`).join(', ')}\n`);
        perLayer.forEach((v, l) => io.stdout(`layer ${l}: |h| = ${Math.hypot(...v).toFixed(4)}\n`));
      }
      return EXIT_OK;
    } finally {
      await model.dispose();
    }
  },
};
