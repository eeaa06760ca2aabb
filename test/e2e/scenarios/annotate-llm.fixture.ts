// Fixtures of the "Annotate with Local Model…" end-to-end scenario, written into the run's workspace
// (run with tsx from the repository root): the planted checkpoint of the unit tests (its answer to
// low/mid/high is 'mid' for every row, with a confidence known by construction; the extension
// builds it to ONNX in the worker on first use), a labels CSV with a text and a gold column, and a
// human test beside it (human.csv, found by convention for the labelled copy).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePlantedModel } from '../../unit/annotation/llmPlanted';

const LEVELS = ['low', 'mid', 'high'];

async function main(workspace: string): Promise<void> {
  const dir = join(workspace, 'annotate-llm');
  mkdirSync(dir, { recursive: true });
  const { checkpointDir } = await writePlantedModel(join(workspace, 'annotate-llm-model'), false);
  const rows = ['id,text,gold'];
  for (let i = 1; i <= 30; i++) rows.push(`${i},"Item ${i}: a short sentence, to be labelled",${LEVELS[i % 3]}`);
  writeFileSync(join(dir, 'labels.csv'), `${rows.join('\n')}\n`);
  const human = ['Annotator,ID,Label'];
  for (let i = 1; i <= 10; i++) human.push(`groundtruth,${i},${LEVELS[i % 3]}`);
  for (let i = 1; i <= 10; i++) human.push(`A1,${i},${LEVELS[i === 4 ? 2 : i % 3]}`);
  for (let i = 1; i <= 10; i++) human.push(`A2,${i},${LEVELS[i % 3]}`);
  writeFileSync(join(dir, 'human.csv'), `${human.join('\n')}\n`);
  process.stdout.write(checkpointDir);
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
