// The WebAssembly fast path of the JSON Lines scan (assembly/jsonScan.ts via src/core/data/wasmScan.ts)
// must be invisible: on every line it accepts, the same tape, normalised text and hashes as the
// TypeScript scanner and hash.ts; it accepts exactly the lines that are valid JSON with valid UTF-8;
// and whole files give the same findings with it as without it (PREFLIGHT_WASM_SCAN=0), in one
// pass and on worker threads. Lines and files are drawn from the shared seeded generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateFile } from '../../../src/core/data';
import { NormalizedHasher, hashBytes } from '../../../src/core/data/hash';
import { JsonTape, T_OBJECT, T_STRING } from '../../../src/core/data/jsonScan';
import { RecordChecker } from '../../../src/core/data/records';
import { BATCH_RECORDS, WasmScanner, wasmScanner } from '../../../src/core/data/wasmScan';
import { Rng } from '../../../src/shared/random';

const root = join(__dirname, '..', '..', '..');

function scanner(): WasmScanner {
  // a source checkout before `npm run build`: build the module the way the build does
  if (!existsSync(join(root, 'dist', 'jsonScan.wasm'))) {
    const built = spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  }
  const wasm = wasmScanner();
  assert.ok(wasm, 'dist/jsonScan.wasm loads');
  return wasm;
}

const WORDS = [
  'alpha',
  'Beta',
  'GAMMA',
  'délta',
  '日本語',
  'epsilon',
  'zeta!',
  'eta,',
  'the  end.',
  '😀',
  'a\\nb',
  'x\\u00e9y',
  'tab\\there',
  'q\\"uote',
  'sl\\/ash',
  '\x7f',
  'MiXeD-Case_42',
  '   ',
  '(parens)',
  'ÅNGSTRÖM',
];

function text(r: Rng, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[r.int(WORDS.length)]);
  return out.join(r.next() < 0.5 ? ' ' : '');
}

/** A random JSON value written as text (escapes kept as written), nested up to `depth`. */
function value(r: Rng, depth: number): string {
  const k = r.int(depth > 0 ? 9 : 6);
  switch (k) {
    case 0:
      return `"${text(r, r.int(30))}"`;
    case 1:
      return ['0', '-1', '3.25', '1e9', '-0.5E-3', '12345678901234567890', '2E+2'][r.int(7)];
    case 2:
      return ['true', 'false', 'null'][r.int(3)];
    case 3:
      return `"${text(r, 40 + r.int(80))}"`;
    case 4:
    case 5:
      return `"${text(r, 1 + r.int(6))}"`;
    case 6:
    case 7: {
      const n = r.int(5);
      const members: string[] = [];
      for (let i = 0; i < n; i++)
        members.push(
          `${r.next() < 0.2 ? ' ' : ''}"${r.next() < 0.8 ? ['role', 'content', 'messages', 'text', 'name'][r.int(5)] : text(r, 1 + r.int(2))}"${r.next() < 0.2 ? ' ' : ''}:${r.next() < 0.2 ? ' ' : ''}${value(r, depth - 1)}`,
        );
      return `{${members.join(',')}}`;
    }
    default: {
      const n = r.int(5);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(value(r, depth - 1));
      return `[${items.join(r.next() < 0.2 ? ' , ' : ',')}]`;
    }
  }
}

/** A chat record that is mostly clean (what RecordChecker passes), with the variations that are not. */
function cleanChat(r: Rng): string {
  const messages: string[] = [];
  const turn = (role: string) => {
    let content = text(r, 1 + r.int(40));
    const p = r.next();
    if (p < 0.03) content = '';
    else if (p < 0.06) content = ' \\t\\n ';
    else if (p < 0.09) content = `\\n${content}`;
    else if (p < 0.11) content = `\\u0020${content}`;
    const q = r.next();
    if (q < 0.04) messages.push(`{"content":"${content}","role":"${role}"}`);
    else if (q < 0.08) messages.push(`{"role":"${role}","content":"${content}","name":"${text(r, 1)}"}`);
    else if (q < 0.1) messages.push(`{"role":"${role}","tool_call_id":null,"content":"${content}"}`);
    else if (q < 0.12) messages.push(`{"role":"${role}","content":"${content}","weight":1}`);
    else if (q < 0.14) messages.push(`{"r\\u006fle":"${role}","content":"${content}"}`);
    else if (q < 0.16) messages.push(`{"role":"x","role":"${role}","content":"${content}"}`);
    else if (q < 0.18) messages.push(`{"role":"${role}","content":[{"type":"text","text":"${content}"}]}`);
    else messages.push(`{"role":"${role}","content":"${content}"}`);
  };
  if (r.next() < 0.6) turn(['system', 'developer', 'system'][r.int(3)]);
  for (let i = 0, n = 1 + r.int(4); i < n; i++) {
    const p = r.next();
    turn(p < 0.03 ? 'assistant' : p < 0.05 ? 'system' : p < 0.07 ? 'tool' : 'user');
    if (r.next() < 0.97) turn(r.next() < 0.02 ? 'user' : 'assistant');
  }
  const p = r.next();
  if (p < 0.05) return `{"id":${r.int(100)},"messages":[${messages.join(',')}],"messages":[]}`;
  if (p < 0.1) return `{"text":"x","messages":[${messages.join(', ')}]}`;
  if (p < 0.12) return `{"messages":[]}`;
  if (p < 0.14) return `{"messages":{}}`;
  return `{"messages":[${messages.join(',')}]}`;
}

function chat(r: Rng): string {
  const roles = ['system', 'user', 'assistant', 'tool', 'User'];
  const messages = [];
  for (let i = 0, n = 1 + r.int(5); i < n; i++) messages.push(`{"role":"${roles[r.int(roles.length)]}","content":"${text(r, r.int(60))}"}`);
  return `{"messages":[${messages.join(',')}]}`;
}

/** One line: valid records and values, then mutations that break the JSON or the UTF-8. */
function line(r: Rng): Buffer {
  const p = r.next();
  let bytes = Buffer.from(p < 0.3 ? chat(r) : p < 0.6 ? cleanChat(r) : value(r, 4), 'utf8');
  const mutations = r.next() < 0.5 ? 0 : 1 + r.int(3);
  for (let m = 0; m < mutations; m++) {
    const at = r.int(bytes.length + 1);
    const kind = r.int(6);
    const bad = [0xe9, 0x80, 0xc0, 0xed, 0xf5, 0xff, 0x00, 0x1f, 0x22, 0x5c, 0x2c, 0x7d, 0x5d, 0x0a][r.int(14)];
    if (kind === 0) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([bad]), bytes.subarray(at)]);
    else if (kind === 1) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else if (kind === 2) bytes = bytes.subarray(0, at);
    else if (kind === 3 && at < bytes.length) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([bad]), bytes.subarray(at + 1)]);
    else if (kind === 4) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from('\xf0\x9f\x98'.split('').map((c) => c.charCodeAt(0))), bytes.subarray(at)]);
    else bytes = Buffer.concat([Buffer.from(' \t'), bytes, Buffer.from(' \r')]);
  }
  return bytes;
}

test('on every line it accepts, the WebAssembly scan gives the TypeScript tape, normalised text and hashes; it accepts exactly the valid ones', () => {
  const wasm = scanner();
  const r = new Rng(0x5eed15);
  const tape = new JsonTape();
  const hasher = new NormalizedHasher();
  const out = { h1: 0, h2: 0, length: 0 };
  let accepted = 0;
  let rejected = 0;
  const checker = new RecordChecker();
  const fast = { h1: 0, h2: 0, length: 0, raw: 0 };
  let clean = 0;
  let notClean = 0;
  for (let n = 0; n < 20_000; n++) {
    const bytes = line(r);
    // anywhere in a larger buffer, as lines lie in a read chunk
    const pad = r.int(40);
    const buf = Buffer.concat([Buffer.alloc(pad, 0x61), bytes, Buffer.alloc(r.int(40), 0x7b)]);
    const e = pad + bytes.length;
    const valid = tape.scanDocument(buf, pad, e) && tape.utf8ErrorOffset < 0;
    const d = wasm.locate(buf, 0, buf.length);
    const ok = wasm.scan(pad + d, e + d);
    assert.equal(ok, valid, `line ${JSON.stringify(bytes.toString('latin1'))}: accepted by WebAssembly ${ok}, valid ${valid}`);
    if (!ok) {
      rejected++;
      continue;
    }
    accepted++;
    const w = wasm.tape;
    assert.equal(w.count, tape.count);
    assert.equal(w.nonAscii, tape.nonAscii);
    assert.equal(w.utf16Shrink, tape.utf16Shrink);
    // the module writes its normalised text from its own base, the TypeScript tape from 0
    let firstString = 0;
    while (firstString < tape.count && tape.type[firstString] !== T_STRING) firstString++;
    const normBase = firstString < tape.count ? w.normStart[firstString] - tape.normStart[firstString] : 0;
    for (let t = 0; t < tape.count; t++) {
      const what = `token ${t} of ${JSON.stringify(bytes.toString('latin1'))}`;
      assert.deepEqual(
        [w.type[t], w.flags[t], w.start[t] - d, w.end[t] - d, w.next[t]],
        [tape.type[t], tape.flags[t], tape.start[t], tape.end[t], tape.next[t]],
        what,
      );
      if (tape.type[t] !== T_STRING) continue;
      assert.equal(w.weight[t], tape.weight[t], what);
      // the same normalised text at the same place relative to the start (so strings lie side by side alike)
      assert.deepEqual([w.normStart[t] - normBase, w.normEnd[t] - normBase], [tape.normStart[t], tape.normEnd[t]], what);
      assert.deepEqual(Buffer.from(w.norm.subarray(w.normStart[t], w.normEnd[t])), Buffer.from(tape.norm.subarray(tape.normStart[t], tape.normEnd[t])), what);
    }
    assert.equal(wasm.hashRaw(pad + d, e + d), hashBytes(buf, pad, e));
    // a record the module passes as a clean chat record: RecordChecker finds nothing, counts the same tokens, hashes the same texts
    const tokens = wasm.cleanChat(pad + d, e + d, fast);
    const issues: string[] = [];
    const isObject = tape.type[0] === T_OBJECT;
    const schema = isObject ? checker.check(tape, 0, (code) => issues.push(code)) : 'none';
    if (tokens >= 0) {
      clean++;
      assert.deepEqual([schema, issues, tokens], ['chat', [], checker.tokens], `clean chat ${JSON.stringify(bytes.toString('latin1'))}`);
      hasher.begin();
      for (let i = 0; i < checker.textCount; i++) hasher.add(tape.norm, tape.normStart[checker.textTokens[i]], tape.normEnd[checker.textTokens[i]]);
      hasher.finish();
      assert.deepEqual([fast.h1, fast.h2, fast.length, fast.raw], [hasher.h1, hasher.h2, hasher.length, hashBytes(buf, pad, e)]);
    } else if (schema === 'chat' && issues.length === 0) notClean++;
    if (firstString < tape.count) {
      let last = tape.count - 1;
      while (tape.type[last] !== T_STRING) last--;
      hasher.hashRange(tape.norm, 0, tape.normEnd[last]);
      wasm.hashNorm(normBase, w.normEnd[last], out);
      assert.deepEqual([out.h1, out.h2, out.length], [hasher.h1, hasher.h2, hasher.length]);
    }
  }
  // both sides of the property were exercised
  assert.ok(accepted > 5000 && rejected > 5000, `accepted ${accepted}, rejected ${rejected}`);
  // both sides again: clean chat records checked in the module, and clean ones it leaves to RecordChecker
  // (content before role, a name's text between the turns, escaped keys, content lists)
  assert.ok(clean > 500 && notClean > 100, `clean chat records: ${clean} checked in WebAssembly, ${notClean} left to RecordChecker`);
});

const tmp = mkdtempSync(join(tmpdir(), 'preflight-wasm-'));

/** A JSON Lines file with every kind of defect and a long line, CRLF, a BOM, duplicates. */
/** the TypeScript scanner's findings: the reference the WebAssembly path must reproduce */
async function validateWithoutWasm(path: string, options: Parameters<typeof validateFile>[1]): ReturnType<typeof validateFile> {
  process.env.PREFLIGHT_WASM_SCAN = '0';
  try {
    return await validateFile(path, options);
  } finally {
    delete process.env.PREFLIGHT_WASM_SCAN;
  }
}

function file(seed: number, lines: number): Buffer {
  const r = new Rng(seed);
  const pool: Buffer[] = [];
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  for (let i = 0; i < lines; i++) {
    const p = r.next();
    let bytes: Buffer;
    if (pool.length > 5 && p < 0.1)
      bytes = pool[r.int(pool.length)]; // exact copy
    else if (pool.length > 5 && p < 0.15)
      bytes = Buffer.from(pool[r.int(pool.length)].toString('utf8').replace(/"content":"(.)/, (_m, c: string) => `"content":" ${c.toUpperCase()}`)); // near copy
    else if (p < 0.17) bytes = Buffer.from(r.next() < 0.5 ? '' : '  \t');
    else if (p < 0.175)
      bytes = Buffer.from(`{"text":"${text(r, 20_000 + r.int(250_000))}"}`); // long lines, some over a read chunk
    else if (i % 500 === 7)
      bytes = Buffer.from(`{"text":"many tokens","n":[${'1,'.repeat(70_000)}1]}`); // more tokens than the module's tape
    else if (p < 0.45)
      bytes = line(r); // random values and broken lines
    else {
      bytes = Buffer.from(r.next() < 0.3 ? chat(r) : cleanChat(r), 'utf8');
      pool.push(bytes);
    }
    parts.push(bytes, Buffer.from(r.next() < 0.3 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

test('whole files: the same findings and summary with the WebAssembly scan as without it, in one pass and on worker threads', async () => {
  scanner();
  for (const seed of [1, 2]) {
    const path = join(tmp, `defects-${seed}.jsonl`);
    writeFileSync(path, file(seed, 1500));
    for (const maxFindings of [1e6, 50]) {
      const options = { maxFindings, contextLimit: 1e7 };
      const withoutWasm = await validateWithoutWasm(path, options);
      const codes = withoutWasm.summary.byCode ?? {};
      if (maxFindings > 1000)
        for (const code of ['json-malformed', 'utf8-invalid', 'duplicate-exact', 'duplicate-near', 'blank-line'])
          assert.ok(codes[code], `seed ${seed}: the file has ${code}`);
      assert.deepEqual(await validateFile(path, options), withoutWasm, `seed ${seed}, one pass, maxFindings ${maxFindings}`);
      if (maxFindings > 1000) assert.deepEqual(await validateFile(path, { ...options, workers: 3 }), withoutWasm, `seed ${seed}, 3 workers`);
    }
  }
});

/** A chat record with nothing to report: a system turn (or not), then user and assistant turns. */
function plainChat(r: Rng): string {
  const messages: string[] = [];
  // (a word first: random words may all be blank)
  const say = (n: number) => `Q${r.int(1000)} ${text(r, n)}`;
  if (r.next() < 0.5) messages.push(`{"role":"system","content":"${say(r.int(10))}"}`);
  for (let i = 0, n = 1 + r.int(3); i < n; i++)
    messages.push(`{"role":"user","content":"${say(r.int(30))}"}`, `{"role":"assistant","content":"${say(r.int(60))}"}`);
  return `{"messages":[${messages.join(',')}]}`;
}

/**
 * Long runs of clean chat records, as real files are, that the module checks a chunk at a time
 * (wasmScan.ts batch): exact and near copies, leading and trailing blanks, CRLF, and now and
 * then a line it must leave to the TypeScript path (broken, blank, another kind of record, long,
 * nested deeper than its stack, a NUL byte or invalid UTF-8 in an otherwise clean record).
 */
function runsFile(seed: number, lines: number, defects = 1): Buffer {
  const r = new Rng(seed);
  const pool: Buffer[] = [];
  const parts: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const p = r.next();
    let bytes: Buffer;
    if (pool.length > 5 && p < 0.08) bytes = pool[r.int(pool.length)];
    else if (pool.length > 5 && p < 0.12)
      bytes = Buffer.from(pool[r.int(pool.length)].toString('utf8').replace(/"content":"(.)/, (_m, c: string) => `"content":" ${c.toUpperCase()}`));
    else if (p < 0.12 + 0.005 * defects) bytes = Buffer.from(r.next() < 0.5 ? '' : ' \t');
    else if (p < 0.12 + 0.025 * defects) bytes = line(r);
    else if (p < 0.12 + 0.027 * defects)
      bytes = Buffer.from(`{"messages":[{"role":"user","content":"${text(r, 20_000 + r.int(200_000))}"},{"role":"assistant","content":"ok"}]}`);
    else if (p < 0.12 + 0.03 * defects) {
      // hostile: nesting deeper than the module's stack, a NUL byte in a clean record, invalid UTF-8 in one
      const clean = Buffer.from(plainChat(r), 'utf8');
      const at = 30 + r.int(clean.length - 40);
      const k = r.int(3);
      if (k === 0) bytes = Buffer.from(`{"messages":${'['.repeat(5000)}${']'.repeat(5000)}}`);
      else bytes = Buffer.concat([clean.subarray(0, at), Buffer.from(k === 1 ? [0] : [0xc3, 0x28]), clean.subarray(at)]);
    } else {
      bytes = Buffer.from(r.next() < 0.3 * defects ? cleanChat(r) : plainChat(r), 'utf8');
      pool.push(bytes);
    }
    const q = r.next();
    if (q < 0.03) bytes = Buffer.concat([Buffer.from(' \t '), bytes]);
    else if (q < 0.06) bytes = Buffer.concat([bytes, Buffer.from(' \t')]);
    parts.push(bytes, Buffer.from(r.next() < 0.2 ? '\r\n' : '\n'));
  }
  return Buffer.concat(parts);
}

test('whole files of clean chat runs, checked a chunk of lines at a time in the module: the same findings as without it, in one pass and on worker threads', async () => {
  const wasm = scanner();
  // count what the batches carry (the real module, observed)
  const batch = wasm.batch.bind(wasm);
  let batched = 0;
  let fullBatches = 0;
  wasm.batch = (s, e, maxLine, contextLimit) => {
    const n = batch(s, e, maxLine, contextLimit);
    batched += n;
    if (n === BATCH_RECORDS) fullBatches++;
    return n;
  };
  try {
    // seed 5: defects a hundred times rarer, so runs are longer than a batch
    for (const [seed, defects] of [
      [3, 1],
      [4, 1],
      [5, 0.01],
    ]) {
      const path = join(tmp, `runs-${seed}.jsonl`);
      writeFileSync(path, runsFile(seed, 6000, defects));
      for (const [maxFindings, contextLimit] of [
        [20, 1e7],
        [100, 150],
        [1000, 1e7],
      ]) {
        const options = { maxFindings, contextLimit };
        const withoutWasm = await validateWithoutWasm(path, options);
        const codes = withoutWasm.summary.byCode ?? {};
        for (const code of ['duplicate-exact', 'duplicate-near', 'blank-line', 'length-outlier', ...(defects === 1 ? ['json-malformed', 'utf8-invalid'] : [])])
          assert.ok(codes[code], `seed ${seed}: the file has ${code} (${JSON.stringify(codes)})`);
        if (contextLimit < 1000) assert.ok(codes['tokens-over-limit'], 'records over the context limit');
        const before = batched;
        assert.deepEqual(await validateFile(path, options), withoutWasm, `seed ${seed}, one pass, ${JSON.stringify(options)}`);
        if (maxFindings < 1000) assert.ok(batched - before > 1000, `seed ${seed}, ${JSON.stringify(options)}: ${batched - before} records came in batches`);
        assert.deepEqual(await validateFile(path, { ...options, workers: 3 }), withoutWasm, `seed ${seed}, 3 workers, ${JSON.stringify(options)}`);
      }
    }
  } finally {
    delete (wasm as { batch?: unknown }).batch;
  }
  assert.ok(fullBatches > 0, 'some batches stopped at their cap, not at a line');
});
