// The prompt of LLM annotation with the local model (docs/annotation.md): a task
// instruction, the ordered levels with their definitions, a few gold-labelled examples and the
// row's text, asked as one user turn through the model's own chat template (the same
// `promptIds` MDF's probes use). The answer is scored, not generated: each level's name as the
// assistant's whole reply, its end-of-turn marker included, so that a level whose name is a
// prefix of another's ('1' and '10') is not credited with the other's probability.
import type { InferenceModel, TextTokenizer } from '../model/api';
import { promptIds } from '../mdf/scoring';
import { normalizeLabel } from './scale';

export const DEFAULT_INSTRUCTION = 'Label the text with exactly one of the levels below. The levels are ordered from lowest to highest.';

/** Example and row texts longer than this are cut (a prompt must fit the model's context). */
export const MAX_SHOT_CHARS = 600;

export interface PromptSpec {
  instruction: string;
  /** the levels as they are to be answered, lowest first */
  levels: string[];
  /** definition per level, keyed by the normalised level name */
  definitions?: Record<string, string>;
}

export interface Shot {
  /** 0-based data row of the input the example comes from (never the row being labelled) */
  row: number;
  text: string;
  /** the gold label, spelled as a level of the scale */
  label: string;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The user turn: instruction, levels (with definitions), examples, the text to label. */
export function promptText(spec: PromptSpec, shots: Shot[], text: string, maxTextChars = 4000): string {
  const lines = [spec.instruction, '', 'Levels:'];
  spec.levels.forEach((level, i) => {
    const definition = spec.definitions?.[normalizeLabel(level)];
    lines.push(`${i + 1}. ${level}${definition ? `: ${oneLine(definition, 300)}` : ''}`);
  });
  if (shots.length) {
    lines.push('', 'Examples:');
    for (const shot of shots) lines.push(`Text: ${oneLine(shot.text, MAX_SHOT_CHARS)}`, `Level: ${shot.label}`, '');
  } else lines.push('');
  lines.push('Answer with the name of the level only.', '', `Text: ${oneLine(text, maxTextChars)}`);
  return lines.join('\n');
}

/**
 * Token ids of each level's name as the assistant's reply. With a chat template: the rendered
 * conversation with the reply minus the rendered prompt (so the template's end-of-turn marker is
 * part of the answer; trailing whitespace dropped); without one: ' name' and a newline, after
 * promptIds' "Answer:" fallback.
 */
export function answerIds(tokenizer: TextTokenizer, levels: string[]): number[][] {
  const probe = [{ role: 'user', content: 'x' }];
  let prompt: string | null = null;
  try {
    prompt = tokenizer.applyChatTemplate(probe, { addGenerationPrompt: true });
  } catch {
    prompt = null;
  }
  return levels.map((level) => {
    let suffix = ` ${level}\n`;
    if (prompt !== null) {
      const full = tokenizer.applyChatTemplate([...probe, { role: 'assistant', content: level }], { addGenerationPrompt: false });
      suffix = full.startsWith(prompt) ? full.slice(prompt.length).trimEnd() : level;
      if (!suffix.includes(level)) suffix = level;
    }
    const ids = tokenizer.encode(suffix, { addSpecialTokens: false });
    if (ids.length === 0) throw new Error(`level '${level}' encodes to no tokens`);
    return ids;
  });
}

/** The row's prompt as token ids; when it does not fit (leaving `room` positions for the longest
 *  answer) the row's text is cut first, then the examples are halved. */
export function rowPromptIds(model: InferenceModel, spec: PromptSpec, shots: Shot[], text: string, room: number): { ids: number[]; truncated: boolean } {
  const limit = model.info.maxPositions - room;
  let chars = Math.min(4000, text.length);
  let kept = shots;
  let ids = promptIds(model, promptText(spec, kept, text, chars));
  let truncated = false;
  for (let attempt = 0; ids.length > limit && attempt < 12; attempt++) {
    truncated = true;
    if (chars > 64) chars = Math.max(64, Math.floor(chars * Math.min(0.9, limit / ids.length)));
    else if (kept.length > 0) kept = kept.slice(0, Math.floor(kept.length / 2));
    else break;
    ids = promptIds(model, promptText(spec, kept, text, chars));
  }
  if (ids.length > limit)
    throw new Error(
      `the prompt (${ids.length} tokens) does not fit the model's ${model.info.maxPositions} positions even with the text cut and no examples; use shorter definitions or a model with a longer context`,
    );
  return { ids, truncated };
}
