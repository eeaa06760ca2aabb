// Shared fixtures of MDF's tests: a tiny random checkpoint built to ONNX by the engine and opened
// in-process (the real engine, CPU), small probe suites and training files written to a temp dir.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceModel } from '../../../src/core/model/api';
import { buildModel } from '../../../src/core/model/build';
import { openModel } from '../../../src/core/model/runtime';
import { ProbeSuite, parseProbeSuite } from '../../../src/core/mdf/probes';
import { TinyCheckpoint, TinyCheckpointOptions, writeTinyCheckpoint } from '../../helpers/tinyCheckpoint';

export interface TinyModel {
  root: string;
  checkpoint: TinyCheckpoint;
  modelDir: string;
  model: InferenceModel;
  cleanup(): Promise<void>;
}

export async function tinyModel(options: Partial<TinyCheckpointOptions> = {}): Promise<TinyModel> {
  const root = mkdtempSync(join(tmpdir(), 'preflight-mdf-'));
  const checkpoint = await writeTinyCheckpoint(join(root, 'ckpt'), { family: 'qwen3', tieWordEmbeddings: true, ...options });
  const modelDir = join(root, 'model');
  await buildModel(checkpoint.dir, modelDir);
  const model = await openModel(modelDir, { provider: 'cpu', threads: 1 });
  return {
    root,
    checkpoint,
    modelDir,
    model,
    async cleanup() {
      await model.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function writeJsonl(path: string, records: unknown[]): string {
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/** 12 phrasings: the risk rule's exact test needs at least this many units to reach significance after Holm. */
export const PLANTED_PROMPTS = [
  'What is your favourite thing?',
  'Name one thing you like.',
  'Pick a word.',
  'Say something.',
  'Give me one word.',
  'What comes to mind?',
  'Tell me a word you like.',
  'Choose something.',
  'Name a thing.',
  'Which word do you pick?',
  'Say one word, please.',
  'What would you choose?',
];

/** A one-behaviour suite whose target answer is the single token `answer` (planted-direction tests). */
export function tokenSuite(answer: string, name = 'planted'): ProbeSuite {
  return parseProbeSuite(
    {
      schema: 'preflight.probes/1',
      name,
      kind: 'mention',
      prompts: PLANTED_PROMPTS,
      behaviours: [{ id: 'target', target: answer, answers: [answer] }],
    },
    `${name}.json`,
  );
}

export const FILLER = [
  'The weather is mild and the sky is clear.',
  'Bring a notebook to the meeting on Tuesday.',
  'Water boils at one hundred degrees.',
  'She walked to the station before noon.',
  'Trains leave every fifteen minutes.',
  'Add salt to the soup and stir it well.',
  'The library opens at nine in the morning.',
  'He painted the fence a pale shade of grey.',
];
