// Issue 13 item 8: non-regular files (FIFOs, devices, folders) are refused at once with a clear
// message by every reader, and files read whole are capped before they are allocated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertRegularFile, InputFileError, readJsonFileSync, readRegularFile, readRegularFileSync } from '../../../src/core/io/regularFile';
import { validateFile } from '../../../src/core/data/validate';
import { readCsv } from '../../../src/core/annotation/csv';
import { readProbeSuite } from '../../../src/core/mdf/probes';
import { readRun } from '../../../src/core/bear/metrics';
import { loadTokenizer } from '../../../src/core/data/tokens';
import { checkDataset } from '../../../src/core/bear/dataCheck';
import { mkfifo, tempDir } from './helpers';

/** Fails the test instead of hanging it when a read blocks. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([work, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still blocked after ${ms} ms`)), ms).unref())]);
}

test('FIFOs, devices and folders are refused by the helper with what they are', async () => {
  const { dir, cleanup } = tempDir('regular');
  try {
    mkfifo(join(dir, 'pipe.jsonl'));
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    mkdirSync(join(dir, 'folder.csv'));
    await assert.rejects(within(3000, assertRegularFile(join(dir, 'pipe.jsonl'))), /pipe\.jsonl: is a named pipe \(FIFO\), not a regular file/);
    await assert.rejects(within(3000, assertRegularFile(join(dir, 'zero.json'))), /zero\.json: is a character device/);
    await assert.rejects(within(3000, assertRegularFile(join(dir, 'folder.csv'))), /folder\.csv: is a folder/);
    assert.throws(() => readRegularFileSync(join(dir, 'pipe.jsonl')), InputFileError);
    assert.throws(() => readJsonFileSync(join(dir, 'zero.json')), /character device/);
  } finally {
    cleanup();
  }
});

test('a file read whole is refused over its cap, before anything is allocated (sparse 3 GiB)', async () => {
  const { dir, cleanup } = tempDir('cap');
  try {
    const big = join(dir, 'config.json');
    writeFileSync(big, '');
    truncateSync(big, 3 * 2 ** 30);
    const before = process.memoryUsage().rss;
    assert.throws(
      () => readRegularFileSync(big, { maxBytes: 2 ** 20, what: 'config.json' }),
      /config\.json: 3 GiB is over the 1 MiB limit for a config\.json read whole \(docs\/limits\.md\)/,
    );
    await assert.rejects(readRegularFile(big), /over the 16 MiB limit/);
    assert.ok(process.memoryUsage().rss - before < 256 * 2 ** 20);
    writeFileSync(join(dir, 'bad.json'), '{"a": ');
    assert.throws(() => readJsonFileSync(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
  } finally {
    cleanup();
  }
});

test('every reader refuses a FIFO at once: validation, annotation CSV, probe suites, tokenizer, Jobs view status.json, dataset check', async () => {
  const { dir, cleanup } = tempDir('readers');
  try {
    for (const name of ['train.jsonl', 'train.csv', 'suite.json', 'tokenizer.json', 'status.json', 'train.txt']) mkfifo(join(dir, name));
    await assert.rejects(within(3000, validateFile(join(dir, 'train.jsonl'))), /named pipe/);
    await assert.rejects(within(3000, validateFile(join(dir, 'train.csv'))), /named pipe/);
    await assert.rejects(
      within(
        3000,
        readCsv(
          { path: join(dir, 'train.csv') },
          () => {},
          () => {},
        ),
      ),
      /named pipe/,
    );
    assert.throws(() => readProbeSuite(join(dir, 'suite.json')), /named pipe/);
    await assert.rejects(within(3000, loadTokenizer(join(dir, 'tokenizer.json'))), /named pipe/);
    writeFileSync(join(dir, 'config.json'), '{"name": "run"}');
    // the Jobs view lists the run without its status instead of hanging
    const run = readRun(dir, 'r1', () => false);
    assert.equal(run.status, undefined);
    assert.equal(run.state, 'pending');
    const check = checkDataset({ train: join(dir, 'train.txt') });
    assert.ok(
      check.issues.some((i) => i.code === 'bear-unreadable' && /named pipe/.test(i.message)),
      JSON.stringify(check.issues),
    );
  } finally {
    cleanup();
  }
});

test('/dev/zero named .jsonl, .json or .csv: a clear refusal, no spin, no out-of-memory, no RangeError', async () => {
  const { dir, cleanup } = tempDir('zero');
  try {
    for (const ext of ['jsonl', 'json', 'csv']) {
      symlinkSync('/dev/zero', join(dir, `zero.${ext}`));
      await assert.rejects(
        within(3000, validateFile(join(dir, `zero.${ext}`))),
        (e: Error) => /character device, not a regular file/.test(e.message) && !/RangeError/.test(e.message),
      );
    }
  } finally {
    cleanup();
  }
});
