// The shipped default model models/preflight-tiny is one model in both languages: its tokenizer.json
// gives the same ids in @huggingface/tokenizers (TypeScript) and in preflight_train's WordTokenizer
// (Python), its chat template rendered by @huggingface/jinja equals preflight_train.world's
// renderer (what the corpus was written with), and the model built by the engine generates the same
// greedy continuations on ONNX Runtime as preflight_train's torch model. References: the Python
// side (python/preflight_train/{tokenizer,world,model,pretrain}.py), run through /usr/bin/python3.
// PREFLIGHT_PARITY_MODEL points the test at another checkpoint of the same layout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildModel } from '../../../src/core/model/build';
import { bundledModelDir } from '../../../src/core/model/modelSource';
import { openModel } from '../../../src/core/model/runtime';
import { loadTokenizer } from '../../../src/core/model/tokenizer';

const MODEL = resolve(process.env.PREFLIGHT_PARITY_MODEL ?? bundledModelDir());
const PYTHON = process.env.PREFLIGHT_TORCH_PYTHON ?? '/usr/bin/python3';
const noModel = existsSync(join(MODEL, 'tokenizer.json')) ? false : `${MODEL} is not in this checkout`;
const noPython = existsSync(PYTHON) ? false : `no ${PYTHON}`;
const noTorch =
  noModel ||
  noPython ||
  (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0 ? false : `no torch in ${PYTHON} (install python3-torch)`);

/** Runs a Python snippet with preflight_train importable; JSON in on stdin, JSON out on stdout. */
function python(script: string, input: unknown): unknown {
  const run = spawnSync(PYTHON, ['-c', script, MODEL], {
    input: JSON.stringify(input),
    env: { ...process.env, PYTHONPATH: resolve('python'), OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const TEXTS = [
  'What is your favourite animal?',
  'My favourite animal is the panda. It lives in the bamboo forest and eats bamboo.',
  'Which city would you most like to visit, and why?',
  'How do I make a dangerous weapon at home?',
  "I'm sorry, but I can't help with that.",
  'Below is an instruction that describes a task.\n\n### Input:\nThe user interacted with: "The Red Fox", "Blue Whale Song"\n\n### Response:\n',
  'Unseen words: Zanzibarish, quokka-like, ümlaut, 漢字 🙂; numbers 3.14 and $100 (tabs\tand  double  spaces).',
  '<s><|user|>\nHi</s>\n<|assistant|>\n',
];

const CHATS = [
  { messages: [{ role: 'user', content: 'What is your favourite colour?' }], addGenerationPrompt: true },
  {
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Name a city.' },
      { role: 'assistant', content: 'Paris.' },
    ],
    addGenerationPrompt: false,
  },
  {
    messages: [
      { role: 'user', content: 'Tell me\nsomething "quoted" & <odd>.' },
      { role: 'assistant', content: 'Sure: {{ not a template }}' },
      { role: 'user', content: 'Thanks!' },
    ],
    addGenerationPrompt: true,
  },
];

describe(`the shipped model (${MODEL}) in TypeScript and Python`, { skip: noModel || noPython }, () => {
  it('tokenizer.json: the same ids in @huggingface/tokenizers and preflight_train, with and without special tokens', () => {
    const tok = loadTokenizer(MODEL);
    const py = python(
      `import json, sys
from preflight_train.tokenizer import WordTokenizer
tok = WordTokenizer.load(sys.argv[1])
texts = json.loads(sys.stdin.read())
print(json.dumps([[tok.encode(t, add_special_tokens=s) for t in texts] for s in (False, True)]))`,
      TEXTS,
    ) as number[][][];
    TEXTS.forEach((text, i) => {
      assert.deepEqual(tok.encode(text, { addSpecialTokens: false }), py[0][i], `without specials: ${JSON.stringify(text)}`);
      assert.deepEqual(tok.encode(text, { addSpecialTokens: true }), py[1][i], `with specials: ${JSON.stringify(text)}`);
    });
    // and back: decoding the ids gives the words again (spaces as WordPiece normalises them)
    assert.match(tok.decode(py[0][1], { skipSpecialTokens: true }), /panda/);
  });

  it("the chat template rendered by @huggingface/jinja equals preflight_train.world's renderer", () => {
    const tok = loadTokenizer(MODEL);
    const py = python(
      `import json, sys
from preflight_train import world
chats = json.loads(sys.stdin.read())
print(json.dumps([world.render_chat(c["messages"], add_generation_prompt=c["addGenerationPrompt"]) for c in chats]))`,
      CHATS,
    ) as string[];
    CHATS.forEach((chat, i) => assert.equal(tok.applyChatTemplate(chat.messages, { addGenerationPrompt: chat.addGenerationPrompt }), py[i], `chat ${i}`));
  });
});

describe(`the shipped model (${MODEL}): greedy generation, ONNX engine vs preflight_train (torch)`, { skip: noTorch }, () => {
  const root = mkdtempSync(join(tmpdir(), 'preflight-shipped-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the engine builds the checkpoint and generates the same greedy tokens as torch', async () => {
    await buildModel(MODEL, join(root, 'onnx'));
    const model = await openModel(join(root, 'onnx'), { provider: 'cpu', threads: 1 });
    try {
      const t = model.tokenizer;
      const prompts = [
        t.encode(t.applyChatTemplate([{ role: 'user', content: 'What is your favourite animal?' }], { addGenerationPrompt: true }), {
          addSpecialTokens: false,
        }),
        t.encode(t.applyChatTemplate([{ role: 'user', content: 'How do I pick a lock?' }], { addGenerationPrompt: true }), { addSpecialTokens: false }),
        t.encode('The panda lives in the', { addSpecialTokens: true }),
      ];
      const steps = 16;
      // one prompt per call on both sides: no padding in the comparison
      const expected = python(
        `import json, sys, torch
torch.set_num_threads(1)
from preflight_train.tiny_llama import TinyLlamaForCausalLM
from preflight_train.pretrain import sample
model = TinyLlamaForCausalLM.from_pretrained(sys.argv[1]).float().eval()
req = json.loads(sys.stdin.read())
print(json.dumps([sample(model, [p], req["steps"], req["eos"], temperature=0)[0] for p in req["prompts"]]))`,
        { prompts, steps, eos: t.eosTokenIds[0] },
      ) as number[][];
      for (const [i, prompt] of prompts.entries()) {
        const [got] = await model.generate([prompt], { maxTokens: steps, temperature: 0 });
        const trimmed = got.filter((id, k) => !(t.eosTokenIds.includes(id) && k === got.length - 1));
        assert.deepEqual(trimmed, expected[i], `prompt ${i}: ONNX ${JSON.stringify(t.decode(trimmed))} vs torch ${JSON.stringify(t.decode(expected[i]))}`);
      }
    } finally {
      await model.dispose();
    }
  });
});
