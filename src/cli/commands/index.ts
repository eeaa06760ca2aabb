// The command table. Each feature owns its own file; unbuilt features say so plainly.
import { CliCommand } from '../command';
import { notBuilt } from '../notBuilt';
import { annotateCommand } from './annotate';

export const commands: CliCommand[] = [
  notBuilt('validate', 'Check JSONL/CSV training and annotation files; findings at exact lines', 'preflight validate <files...> [--json] [--max-findings N]'),
  annotateCommand,
  notBuilt('build-model', 'Turn a Hugging Face checkpoint folder into an MDF-ready ONNX model', 'preflight build-model <hf-dir> --out <dir> [--dtype fp32|fp16]'),
  notBuilt('generate', 'Generate text with a built model', 'preflight generate --model <dir> --prompt STR [--max-tokens N] [--seed S]'),
  notBuilt('inspect', 'Print token ids, last logits and per-layer hidden states', 'preflight inspect --model <dir> --text STR [--steer FILE --alpha A] --json'),
  notBuilt('mdf', 'Forecast the behaviour shift fine-tuning on a file would cause (MDF)', 'preflight mdf <train.jsonl> --model <dir> [--probes NAME|FILE ...] [--alphas ...] [--samples N] [--json] [--out report.json] [--fail-on LEVEL]'),
];
