// Probe suites: every shipped suite validates; broken suites fail with the file and what is wrong;
// workspace suites in .preflight/probes/ are found and override built-ins; matching is on word
// boundaries, case-insensitive; refusal phrases decide compliance.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProbeSuiteError, builtinProbeDir, loadProbeSuites, parseProbeSuite, phraseMatcher, readProbeSuite } from '../../../src/core/mdf/probes';
import { answerShows, prefixFree, scoreAnswers, textIncoherent } from '../../../src/core/mdf/scoring';
import { builtinNeutralCorpus, dominantFormat, neutralAs, readNeutralCorpus } from '../../../src/core/mdf/neutral';
import { detectFormat } from '../../../src/core/mdf/records';

const root = mkdtempSync(join(tmpdir(), 'preflight-probes-'));
after(() => rmSync(root, { recursive: true, force: true }));

function problems(value: unknown): string[] {
  try {
    parseProbeSuite(value, 'bad.json');
  } catch (error) {
    assert.ok(error instanceof ProbeSuiteError);
    assert.equal(error.file, 'bad.json');
    assert.ok(error.message.startsWith('bad.json: invalid probe suite'));
    return error.problems;
  }
  return [];
}

describe('probe suites', () => {
  it('ships the entity-preference and safety suites, all valid', () => {
    const dir = builtinProbeDir();
    assert.ok(dir, 'models/probes found');
    const suites = loadProbeSuites([], { builtinDir: dir, workspaceDir: null });
    assert.deepEqual(suites.map((s) => s.name).sort(), ['animals', 'cities', 'colours', 'countries', 'foods', 'public-figures', 'safety']);
    for (const suite of suites) {
      for (const b of suite.behaviours) {
        assert.ok(b.prompts.length >= 12, `${b.key} has at least 12 phrasings (the units of its test)`);
        assert.equal(new Set(b.prompts).size, b.prompts.length, `${b.key}: phrasings are distinct`);
        assert.ok(b.positiveAnswers.length >= 1);
      }
    }
    const safety = suites.find((s) => s.name === 'safety')!;
    assert.equal(safety.kind, 'compliance');
    assert.ok(safety.behaviours[0].prompts.length >= 50, 'the safety suite has at least 50 prompts');
  });

  it("keeps apart from the benchmark's held-out phrasings (models/preflight-tiny/heldout-probes)", () => {
    const heldDir = join(builtinProbeDir()!, '..', 'preflight-tiny', 'heldout-probes');
    assert.ok(existsSync(heldDir), `${heldDir} exists`);
    const held = new Set(
      loadProbeSuites([], { builtinDir: heldDir, workspaceDir: null })
        .flatMap((s) => s.behaviours.flatMap((b) => b.prompts))
        .map((p) => p.trim().toLowerCase()),
    );
    assert.ok(held.size >= 60, `${held.size} held-out phrasings`);
    for (const suite of loadProbeSuites([], { workspaceDir: null })) {
      for (const b of suite.behaviours)
        for (const p of b.prompts) assert.ok(!held.has(p.trim().toLowerCase()), `${b.key}: "${p}" is a held-out benchmark phrasing`);
    }
  });

  it('reports every problem with its path', () => {
    const found = problems({
      schema: 'preflight.probes/0',
      name: 'Bad Name',
      kind: 'vibes',
      colour: 'red',
      behaviours: [{ id: 'a', target: 'x' }, { id: 'a', target: '' }, 'nope', { id: 'c', target: 'y', aliases: [3] }],
    });
    const joined = found.join('\n');
    for (const expected of [
      '"schema" must be "preflight.probes/1"',
      '"name" must be',
      '"kind" must be',
      'unknown field "colour"',
      'behaviours[1].id "a" is used twice',
      'behaviours[2] must be an object',
      'behaviours[3].aliases',
      'behaviours[0] has no prompts',
    ]) {
      assert.ok(joined.includes(expected), `missing: ${expected}\n${joined}`);
    }
    assert.ok(problems({ schema: 'preflight.probes/1', name: 'x', behaviours: [] }).some((p) => p.includes('"behaviours" must be a non-empty array')));
    assert.ok(
      problems({ schema: 'preflight.probes/1', name: 'x', prompts: ['p'], answerTemplates: ['no placeholder'], behaviours: [{ id: 'a', target: 't' }] }).some(
        (p) => p.includes('{target}'),
      ),
    );
    assert.deepEqual(problems({ schema: 'preflight.probes/1', name: 'ok', prompts: ['p?'], behaviours: [{ id: 'a', target: 't' }] }), []);
  });

  it('names the file for unreadable JSON and unknown suite names', () => {
    const broken = join(root, 'broken.json');
    writeFileSync(broken, '{ "schema": ');
    assert.throws(
      () => readProbeSuite(broken),
      (e: ProbeSuiteError) => e.file === broken && /not valid JSON/.test(e.message),
    );
    assert.throws(() => loadProbeSuites(['no-such-suite'], { workspaceDir: root }), /no probe suite named "no-such-suite" \(known: .*animals/);
  });

  it('reads workspace suites from .preflight/probes/, which override built-ins of the same name', () => {
    const ws = join(root, 'ws');
    mkdirSync(join(ws, '.preflight', 'probes'), { recursive: true });
    const custom = { schema: 'preflight.probes/1', name: 'animals', prompts: ['Favourite pet?'], behaviours: [{ id: 'axolotl', target: 'axolotl' }] };
    writeFileSync(join(ws, '.preflight', 'probes', 'animals.json'), JSON.stringify(custom));
    const all = loadProbeSuites([], { workspaceDir: ws });
    assert.deepEqual(
      all.find((s) => s.name === 'animals')!.behaviours.map((b) => b.id),
      ['axolotl'],
    );
    assert.equal(loadProbeSuites(['animals'], { workspaceDir: ws })[0].behaviours[0].id, 'axolotl');
    assert.equal(loadProbeSuites([join(ws, '.preflight', 'probes', 'animals.json')])[0].behaviours[0].id, 'axolotl');
  });

  it('matches targets on word boundaries, case-insensitively, and detects refusals', () => {
    const [animals, safety] = loadProbeSuites(['animals', 'safety'], { workspaceDir: null });
    const panda = animals.behaviours.find((b) => b.id === 'panda')!;
    assert.equal(answerShows(panda, 'I adore the Giant Panda!'), 1);
    assert.equal(answerShows(panda, 'PANDAS are lovely'), 1);
    assert.equal(answerShows(panda, 'Pandanus is a plant'), 0);
    const cat = animals.behaviours.find((b) => b.id === 'cat')!;
    assert.equal(answerShows(cat, 'concatenate'), 0);
    assert.equal(answerShows(cat, 'a cat.'), 1);
    const harmful = safety.behaviours[0];
    assert.equal(answerShows(harmful, "I'm sorry, but I can't help with that."), 0);
    assert.equal(answerShows(harmful, 'Sure! First, get a tension wrench.'), 1);
    assert.equal(answerShows(harmful, '   '), 0);
    // incoherent answers never count as compliance
    assert.equal(answerShows(harmful, 'Sure, here you go.', true), 0);
    assert.ok(textIncoherent('!!! ?? 12 ,,'));
    assert.ok(textIncoherent('the the the the the the the the the the the the'));
    assert.ok(!textIncoherent('Sure. First, you would need to find a quiet place.'));
    assert.ok(!textIncoherent("I'm sorry, I can't help with that."));
    const answers = new Map([
      [
        harmful.prompts[0],
        [
          { text: 'Sure, here is how.', tokens: [1] },
          { text: 'x x x', tokens: [2] },
          { text: "I'm sorry, no.", tokens: [3] },
        ],
      ],
    ]);
    const scored = scoreAnswers([{ ...harmful, prompts: [harmful.prompts[0]] }], answers);
    assert.deepEqual(scored.units.get(harmful.key), [1 / 3]);
    assert.equal(scored.incoherent.get(harmful.key), 1 / 3);
    assert.ok(phraseMatcher(['New York']).test('new   york'));
    assert.deepEqual(prefixFree(['panda', 'pandas', 'Panda', 'Sure', 'Sure,']), ['panda', 'Panda', 'Sure']);
  });
});

describe('neutral corpus (models/neutral/neutral.jsonl)', () => {
  it('is found, has 100+ generic records that name no probe target, and renders in every training format', () => {
    const file = builtinNeutralCorpus();
    assert.ok(file, 'bundled neutral corpus found');
    const records = readNeutralCorpus(file!);
    assert.ok(records.length >= 100, `${records.length} records`);
    const text = records.map((r) => `${r.instruction}\n${r.response}`).join('\n');
    for (const suite of loadProbeSuites([], { workspaceDir: null })) {
      for (const b of suite.behaviours) if (b.target) assert.ok(!phraseMatcher([b.target, ...b.aliases]).test(text), `names ${b.key}`);
    }
    for (const format of ['chat', 'sharegpt', 'prompt-completion', 'alpaca', 'text'] as const)
      assert.equal(detectFormat(neutralAs(records[0], format)), format);
    assert.equal(dominantFormat({ text: 3, chat: 5 }), 'chat');
    assert.equal(dominantFormat({ alpaca: 2 }), 'alpaca');
    const bad = join(root, 'bad-neutral.jsonl');
    writeFileSync(bad, '{"instruction": "x", "response": "y"}\n{"instruction": "x"}\n');
    assert.throws(() => readNeutralCorpus(bad), /bad-neutral\.jsonl:2: a neutral record needs/);
  });
});
