import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suggestColumns } from '../../../src/core/annotation/llmAnnotate';

describe('annotate-llm column suggestions', () => {
  it('finds a gold column standing last in a file not yet annotated (no LLM column to exclude)', () => {
    assert.deepEqual(suggestColumns(['id', 'text', 'gold']), { text: 'text', gold: 'gold' });
    assert.deepEqual(suggestColumns(['id', 'text', 'gold', 'llm_label']), { text: 'text', gold: 'gold' });
  });
});
