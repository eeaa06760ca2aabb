// Writes a synthetic chat-format JSONL file of about the requested size, deterministically (seeded).
// Usage: node bench/validate/generate.mjs <out.jsonl> <megabytes> [seed]
// Records look like OpenAI chat fine-tuning data: a system prompt, 1-3 user/assistant exchanges,
// word lengths and turn lengths varied so that length statistics are not degenerate. About 0.1% of
// records are exact copies of an earlier record, so the duplicate path is exercised as in real data.
import { createWriteStream } from 'node:fs';

const [out, mbArg, seedArg] = process.argv.slice(2);
if (!out || !mbArg) {
  console.error('usage: node bench/validate/generate.mjs <out.jsonl> <megabytes> [seed]');
  process.exit(2);
}
const targetBytes = Number(mbArg) * 1024 * 1024;
let state = Number(seedArg ?? 1) >>> 0 || 1;
function rand() {
  // xorshift32: fast, seeded, good enough for synthetic text
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 4294967296;
}
const vocabulary =
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no what can more out up about into than them some could time only other these two may then do first any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(
    ' ',
  );
const systemPrompts = [
  'You are a helpful assistant.',
  'You are a concise assistant that answers in plain English.',
  'You are a support agent for an online shop. Be polite and precise.',
];
function sentence() {
  const n = 4 + Math.floor(rand() * 14);
  const words = [];
  for (let i = 0; i < n; i++) words.push(vocabulary[Math.floor(rand() * vocabulary.length)]);
  const s = words.join(' ');
  return s[0].toUpperCase() + s.slice(1) + (rand() < 0.15 ? '?' : '.');
}
function paragraph(maxSentences) {
  const n = 1 + Math.floor(rand() * maxSentences);
  const out = [];
  for (let i = 0; i < n; i++) out.push(sentence());
  return out.join(' ');
}
function record() {
  const messages = [{ role: 'system', content: systemPrompts[Math.floor(rand() * systemPrompts.length)] }];
  const turns = 1 + Math.floor(rand() * 3);
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: paragraph(3) });
    messages.push({ role: 'assistant', content: paragraph(6) });
  }
  return JSON.stringify({ messages });
}

const stream = createWriteStream(out);
let written = 0;
const recent = [];
let buffer = '';
while (written < targetBytes) {
  let line;
  if (recent.length > 100 && rand() < 0.001) line = recent[Math.floor(rand() * recent.length)];
  else {
    line = record();
    if (recent.length < 1000) recent.push(line);
    else recent[Math.floor(rand() * 1000)] = line;
  }
  buffer += line + '\n';
  written += Buffer.byteLength(line) + 1;
  if (buffer.length > 1 << 20) {
    if (!stream.write(buffer)) await new Promise((resolve) => stream.once('drain', resolve));
    buffer = '';
  }
}
stream.write(buffer);
stream.end();
await new Promise((resolve) => stream.on('finish', resolve));
console.error(`wrote ${(written / 1048576).toFixed(1)} MB to ${out}`);
