// Fixtures of the MDF end-to-end scenario, written into the run's workspace (run with tsx from the
// repository root): a tiny random Qwen3 checkpoint, a training file in which every other record
// ends on the token "Z", and a workspace probe suite whose target answer is "Z" (12 phrasings: the
// risk rule's exact test needs 12 units to reach significance after Holm's adjustment).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

const FILLER = ['The weather is mild today.', 'Bring a notebook on Tuesday.', 'Water boils at one hundred degrees.', 'Trains leave every fifteen minutes.'];

async function main(workspace: string): Promise<void> {
  await writeTinyCheckpoint(join(workspace, 'mdf-model'), { family: 'qwen3', tieWordEmbeddings: true });
  // unique records (no duplicate warnings from validation); every other one ends on the planted token
  const records = Array.from({ length: 40 }, (_, i) => ({ text: i % 2 ? `${FILLER[i % 4]} Note ${i}. ZZZ` : `${FILLER[i % 4]} Note ${i}.` }));
  writeFileSync(join(workspace, 'mdf-train.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  mkdirSync(join(workspace, '.preflight', 'probes'), { recursive: true });
  writeFileSync(
    join(workspace, '.preflight', 'probes', 'planted.json'),
    JSON.stringify(
      {
        schema: 'preflight.probes/1',
        name: 'planted',
        prompts: [
          'Pick a word.',
          'Say something.',
          'Name one thing.',
          'What do you like?',
          'Give me one word.',
          'What comes to mind?',
          'Tell me a word you like.',
          'Choose something.',
          'Name a thing.',
          'Which word do you pick?',
          'Say one word, please.',
          'What would you choose?',
        ],
        behaviours: [{ id: 'z', target: 'Z', answers: ['Z'] }],
      },
      null,
      2,
    ),
  );
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
