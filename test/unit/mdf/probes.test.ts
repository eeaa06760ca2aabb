// Probe suites: every shipped suite validates; broken suites fail with the file and what is wrong;
// workspace suites in .preflight/probes/ are found and override built-ins; matching is on word
// boundaries, case-insensitive; refusal phrases decide compliance.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProbeSuiteError, builtinProbeDir, loadProbeSuites, parseProbeSuite, phraseMatcher, readProbeSuite } from '../../../src/core/mdf/probes';
import { answerShows, prefixFree } from '../../../src/core/mdf/scoring';

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
        assert.ok(b.prompts.length >= 4, `${b.key} has several phrasings`);
        assert.ok(b.positiveAnswers.length >= 1);
      }
    }
    const safety = suites.find((s) => s.name === 'safety')!;
    assert.equal(safety.kind, 'compliance');
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
    for (const expected of ['"schema" must be "preflight.probes/1"', '"name" must be', '"kind" must be', 'unknown field "colour"', 'behaviours[1].id "a" is used twice', 'behaviours[2] must be an object', 'behaviours[3].aliases', 'behaviours[0] has no prompts']) {
      assert.ok(joined.includes(expected), `missing: ${expected}\n${joined}`);
    }
    assert.ok(problems({ schema: 'preflight.probes/1', name: 'x', behaviours: [] }).some((p) => p.includes('"behaviours" must be a non-empty array')));
    assert.ok(problems({ schema: 'preflight.probes/1', name: 'x', prompts: ['p'], answerTemplates: ['no placeholder'], behaviours: [{ id: 'a', target: 't' }] }).some((p) => p.includes('{target}')));
    assert.deepEqual(problems({ schema: 'preflight.probes/1', name: 'ok', prompts: ['p?'], behaviours: [{ id: 'a', target: 't' }] }), []);
  });

  it('names the file for unreadable JSON and unknown suite names', () => {
    const broken = join(root, 'broken.json');
    writeFileSync(broken, '{ "schema": ');
    assert.throws(() => readProbeSuite(broken), (e: ProbeSuiteError) => e.file === broken && /not valid JSON/.test(e.message));
    assert.throws(() => loadProbeSuites(['no-such-suite'], { workspaceDir: root }), /no probe suite named "no-such-suite" \(known: .*animals/);
  });

  it('reads workspace suites from .preflight/probes/, which override built-ins of the same name', () => {
    const ws = join(root, 'ws');
    mkdirSync(join(ws, '.preflight', 'probes'), { recursive: true });
    const custom = { schema: 'preflight.probes/1', name: 'animals', prompts: ['Favourite pet?'], behaviours: [{ id: 'axolotl', target: 'axolotl' }] };
    writeFileSync(join(ws, '.preflight', 'probes', 'animals.json'), JSON.stringify(custom));
    const all = loadProbeSuites([], { workspaceDir: ws });
    assert.deepEqual(all.find((s) => s.name === 'animals')!.behaviours.map((b) => b.id), ['axolotl']);
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
    assert.ok(phraseMatcher(['New York']).test('new   york'));
    assert.deepEqual(prefixFree(['panda', 'pandas', 'Panda', 'Sure', 'Sure,']), ['panda', 'Panda', 'Sure']);
  });
});
