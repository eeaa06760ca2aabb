// Schema detection and the per-record checks, run on a scanned JSON tape (see jsonScan.ts).
// The checks follow OpenAI's chat fine-tuning format checks (missing or unrecognised message
// keys, unknown roles, missing content, no assistant message, token counts over the limit) and
// extend them to the other common layouts: ShareGPT, prompt/completion (plain and
// conversational, as TRL reads them), Alpaca, plain text and recommendation records
// (history of item titles + next item, as BEAR trains on).
import { Severity } from './types';
import { JsonTape, T_ARRAY, T_NULL, T_NUMBER, T_OBJECT, T_STRING, isBlankString, matchName, stringValue, typeName } from './jsonScan';
import { RECORD_FORMATS, RecordFormat } from '../../shared/dataFiles';

/** a training-record format (the shared ids), a BEAR recommendation record, or none recognised */
export type SchemaId = RecordFormat | 'recommendation' | 'unknown';
export const SCHEMAS: readonly SchemaId[] = [...RECORD_FORMATS, 'recommendation', 'unknown'];

/** Sink for issues; offsets are byte offsets into tape.buf. */
export type IssueSink = (code: string, severity: Severity, message: string, start: number, end: number) => void;

/** Counts tokens of a text exactly (a tokenizer) — absent means the byte-weight estimate is used. */
export interface ExactTokenCounter {
  count(text: string): number;
}

const TOP_KEYS = ['messages', 'conversations', 'prompt', 'completion', 'instruction', 'input', 'output', 'text', 'history', 'target'] as const;
const K_MESSAGES = 0,
  K_CONVERSATIONS = 1,
  K_PROMPT = 2,
  K_COMPLETION = 3,
  K_INSTRUCTION = 4,
  K_INPUT = 5,
  K_OUTPUT = 6,
  K_TEXT = 7,
  K_HISTORY = 8,
  K_TARGET = 9;

const CHAT_ROLES = ['system', 'user', 'assistant', 'tool', 'developer', 'function'] as const;
const R_SYSTEM = 0,
  R_USER = 1,
  R_ASSISTANT = 2,
  R_TOOL = 3,
  R_DEVELOPER = 4,
  R_FUNCTION = 5;
// OpenAI's format check lists these message keys; tool_calls/tool_call_id belong to the tools format.
const CHAT_KEYS = ['role', 'content', 'name', 'function_call', 'tool_calls', 'tool_call_id', 'weight', 'refusal'] as const;
const M_ROLE = 0,
  M_CONTENT = 1,
  M_FUNCTION_CALL = 3,
  M_TOOL_CALLS = 4,
  M_WEIGHT = 6;

// ShareGPT speakers as LLaMA-Factory and FastChat read them (user/assistant are common aliases).
const SHAREGPT_FROM = ['human', 'gpt', 'system', 'function_call', 'observation', 'tool', 'user', 'assistant'] as const;
const SG_KEYS = ['from', 'value', 'weight', 'loss', 'name'] as const;

// Per-message template overhead of the estimate, after OpenAI's cookbook counter
// (3 tokens per message, 3 to prime the reply).
const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_REPLY = 3;

function isZeroOrOne(tape: JsonTape, tok: number): boolean {
  if (tape.type[tok] !== T_NUMBER) return false;
  const s = tape.start[tok];
  const c = tape.buf[s];
  return tape.end[tok] - s === 1 && (c === 0x30 || c === 0x31);
}

/** Result of checking one record, read by the file validators. */
export class RecordChecker {
  schema: SchemaId = 'unknown';
  /** token count (exact or estimated, see `exact`) */
  tokens = 0;
  /** training-text string tokens, in order, for hashing */
  textTokens = new Int32Array(64);
  textCount = 0;
  /** byte span to point at for record-level findings: the record's first key */
  anchorStart = 0;
  anchorEnd = 0;
  readonly exact: boolean;
  private weight = 0;
  private exactTokens = 0;
  /** key token of each of TOP_KEYS in the record being checked (-1: absent), reused */
  private readonly found = new Int32Array(TOP_KEYS.length);

  constructor(private readonly counter?: ExactTokenCounter) {
    this.exact = counter !== undefined;
  }

  private addText(tape: JsonTape, tok: number): void {
    this.addHashed(tok);
    if (this.counter) this.exactTokens += this.counter.count(stringValue(tape, tok));
    else this.weight += tape.weight[tok];
  }

  /** A string that is part of the record's identity (a role) but not counted as text. */
  private addHashed(tok: number): void {
    if (this.textCount >= this.textTokens.length) {
      const bigger = new Int32Array(this.textTokens.length * 2);
      bigger.set(this.textTokens);
      this.textTokens = bigger;
    }
    this.textTokens[this.textCount++] = tok;
  }

  /**
   * Checks the object at tape token `root` and returns its schema. `sink` gets every issue.
   */
  check(tape: JsonTape, root: number, sink: IssueSink): SchemaId {
    this.textCount = 0;
    this.weight = 0;
    this.exactTokens = 0;
    let overhead = 0;
    const found = this.found.fill(-1);
    const end = tape.next[root];
    this.anchorStart = tape.start[root];
    this.anchorEnd = this.anchorStart + 1;
    let first = true;
    for (let k = root + 1; k < end; k = tape.next[k + 1]) {
      if (first) {
        this.anchorStart = tape.start[k];
        this.anchorEnd = tape.end[k];
        first = false;
      }
      const which = matchName(tape, k, TOP_KEYS);
      if (which >= 0 && found[which] < 0) found[which] = k;
    }
    let schema: SchemaId;
    if (found[K_MESSAGES] >= 0) {
      schema = 'chat';
      overhead = this.checkMessageList(tape, found[K_MESSAGES], sink, 'messages', true);
    } else if (found[K_CONVERSATIONS] >= 0) {
      schema = 'sharegpt';
      overhead = this.checkShareGpt(tape, found[K_CONVERSATIONS], sink);
    } else if (found[K_PROMPT] >= 0 || found[K_COMPLETION] >= 0) {
      schema = 'prompt-completion';
      overhead = this.checkPromptCompletion(tape, root, found[K_PROMPT], found[K_COMPLETION], sink);
    } else if (found[K_INSTRUCTION] >= 0 || found[K_OUTPUT] >= 0) {
      schema = 'alpaca';
      this.requireText(tape, root, found[K_INSTRUCTION], 'instruction', sink, 'error');
      if (found[K_INPUT] >= 0) this.optionalText(tape, found[K_INPUT], 'input', sink);
      this.requireText(tape, root, found[K_OUTPUT], 'output', sink, 'error');
    } else if (found[K_HISTORY] >= 0 || found[K_TARGET] >= 0) {
      schema = 'recommendation';
      this.checkRecommendation(tape, root, found[K_HISTORY], found[K_TARGET], sink);
    } else if (found[K_TEXT] >= 0) {
      schema = 'text';
      this.requireText(tape, root, found[K_TEXT], 'text', sink, 'error');
    } else schema = 'unknown';
    this.schema = schema;
    this.tokens = (this.counter ? this.exactTokens : Math.ceil(this.weight / 4)) + overhead;
    return schema;
  }

  /** A required non-empty string field; `key` is the key token or -1 when absent. */
  private requireText(tape: JsonTape, root: number, key: number, name: string, sink: IssueSink, emptySeverity: Severity): void {
    if (key < 0) {
      sink('field-missing', 'error', `missing "${name}"`, tape.start[root], tape.start[root] + 1);
      return;
    }
    const v = key + 1;
    if (tape.type[v] !== T_STRING) {
      sink('field-type', 'error', `"${name}" must be a string, found ${typeName(tape.type[v])}`, tape.start[v], tape.end[v]);
      return;
    }
    if (isBlankString(tape, v)) sink('field-empty', emptySeverity, `"${name}" is empty`, tape.start[v], tape.end[v]);
    this.addText(tape, v);
  }

  private optionalText(tape: JsonTape, key: number, name: string, sink: IssueSink): void {
    const v = key + 1;
    if (tape.type[v] === T_NULL) return;
    if (tape.type[v] !== T_STRING) {
      sink('field-type', 'error', `"${name}" must be a string, found ${typeName(tape.type[v])}`, tape.start[v], tape.end[v]);
      return;
    }
    this.addText(tape, v);
  }

  /**
   * Checks an OpenAI-style list of messages (value of key token `key`). `wholeConversation`: the
   * list is the full training example (so it needs an assistant turn and should end with one).
   * Returns the template overhead in tokens.
   */
  private checkMessageList(tape: JsonTape, key: number, sink: IssueSink, field: string, wholeConversation: boolean): number {
    const list = key + 1;
    if (tape.type[list] !== T_ARRAY) {
      sink('field-type', 'error', `"${field}" must be an array of messages, found ${typeName(tape.type[list])}`, tape.start[list], tape.end[list]);
      return 0;
    }
    const end = tape.next[list];
    if (list + 1 === end) {
      sink('field-empty', 'error', `"${field}" is an empty list: no turns to train on`, tape.start[list], tape.end[list]);
      return 0;
    }
    let index = 0;
    let assistantTurns = 0;
    let previousRole = -1;
    let previousHadToolCalls = false;
    let seenNonSystem = false;
    let lastRole = -1;
    let lastMessage = list + 1;
    // once a turn has no readable role, the order of the rest cannot be judged
    let orderUnknown = false;
    for (let m = list + 1; m < end; m = tape.next[m], index++) {
      lastMessage = m;
      if (tape.type[m] !== T_OBJECT) {
        sink(
          'field-type',
          'error',
          `${field}[${index}] must be an object with "role" and "content", found ${typeName(tape.type[m])}`,
          tape.start[m],
          tape.end[m],
        );
        previousRole = -1;
        orderUnknown = true;
        continue;
      }
      let roleTok = -1;
      let contentTok = -1;
      let hasCall = false;
      const mEnd = tape.next[m];
      for (let k = m + 1; k < mEnd; k = tape.next[k + 1]) {
        const which = matchName(tape, k, CHAT_KEYS);
        if (which === M_ROLE) roleTok = k + 1;
        else if (which === M_CONTENT) contentTok = k + 1;
        else if ((which === M_FUNCTION_CALL || which === M_TOOL_CALLS) && tape.type[k + 1] !== T_NULL) hasCall = true;
        else if (which === M_WEIGHT && !isZeroOrOne(tape, k + 1)) {
          sink('field-type', 'error', `${field}[${index}].weight must be 0 or 1 (whether the turn is trained on)`, tape.start[k + 1], tape.end[k + 1]);
        } else if (which < 0) {
          sink(
            'key-unknown',
            'warning',
            `${field}[${index}] has an unrecognised key "${stringValue(tape, k)}" (expected role, content, name, tool_calls, tool_call_id, function_call, weight)`,
            tape.start[k],
            tape.end[k],
          );
        }
      }
      let role = -1;
      if (roleTok < 0) {
        sink('field-missing', 'error', `${field}[${index}] has no "role"`, tape.start[m], tape.start[m] + 1);
      } else if (tape.type[roleTok] !== T_STRING) {
        sink('field-type', 'error', `${field}[${index}].role must be a string, found ${typeName(tape.type[roleTok])}`, tape.start[roleTok], tape.end[roleTok]);
      } else {
        role = matchName(tape, roleTok, CHAT_ROLES);
        if (role < 0)
          sink(
            'role-unknown',
            'error',
            `unknown role "${stringValue(tape, roleTok)}" in ${field}[${index}] (expected system, user, assistant or tool)`,
            tape.start[roleTok],
            tape.end[roleTok],
          );
      }
      if (role >= 0) this.addHashed(roleTok);
      if (role === R_DEVELOPER) role = R_SYSTEM;
      if (role === R_FUNCTION) role = R_TOOL;
      if (role === R_ASSISTANT) assistantTurns++;
      // content: a string, a list of parts ({type: 'text', text}), or null/absent next to a tool call
      if (contentTok < 0 || tape.type[contentTok] === T_NULL) {
        if (!hasCall) {
          const at = contentTok < 0 ? tape.start[m] : tape.start[contentTok];
          sink(
            'field-missing',
            'error',
            `${field}[${index}] has no "content"${role === R_ASSISTANT ? ' (and no tool call)' : ''}`,
            at,
            contentTok < 0 ? at + 1 : tape.end[contentTok],
          );
        }
      } else if (tape.type[contentTok] === T_STRING) {
        if (isBlankString(tape, contentTok) && !hasCall) {
          const severity: Severity = role === R_ASSISTANT ? 'error' : 'warning';
          const what = role === R_ASSISTANT ? 'an empty assistant turn trains the model to answer with nothing' : 'empty turn';
          sink('field-empty', severity, `${field}[${index}].content is empty: ${what}`, tape.start[contentTok], tape.end[contentTok]);
        }
        this.addText(tape, contentTok);
      } else if (tape.type[contentTok] === T_ARRAY) {
        let texts = 0;
        const cEnd = tape.next[contentTok];
        for (let p = contentTok + 1; p < cEnd; p = tape.next[p]) {
          if (tape.type[p] !== T_OBJECT) continue;
          for (let k = p + 1; k < tape.next[p]; k = tape.next[k + 1]) {
            if (tape.type[k + 1] === T_STRING && matchName(tape, k, ['text']) === 0) {
              this.addText(tape, k + 1);
              if (!isBlankString(tape, k + 1)) texts++;
            }
          }
        }
        if (texts === 0 && contentTok + 1 === cEnd && !hasCall)
          sink(
            'field-empty',
            role === R_ASSISTANT ? 'error' : 'warning',
            `${field}[${index}].content is an empty list`,
            tape.start[contentTok],
            tape.end[contentTok],
          );
      } else {
        sink(
          'field-type',
          'error',
          `${field}[${index}].content must be a string or a list of parts, found ${typeName(tape.type[contentTok])}`,
          tape.start[contentTok],
          tape.end[contentTok],
        );
      }
      // turn order: system first; then user and assistant alternate; tool answers follow a tool call
      if (role < 0) orderUnknown = true;
      if (role >= 0 && roleTok >= 0 && !orderUnknown) {
        const at0 = tape.start[roleTok];
        const at1 = tape.end[roleTok];
        if (role === R_SYSTEM) {
          if (seenNonSystem)
            sink(
              'turn-order',
              'warning',
              `${field}[${index}] is a system message after the conversation started; most chat templates accept it only first`,
              at0,
              at1,
            );
        } else {
          if (role === R_TOOL && !(previousHadToolCalls || previousRole === R_TOOL)) {
            sink('turn-order', 'warning', `${field}[${index}] is a tool message that follows no assistant tool call`, at0, at1);
          } else if (role === previousRole && role !== R_TOOL) {
            const name = role === R_USER ? 'user' : 'assistant';
            sink(
              'turn-order',
              'warning',
              `${field}[${index}] is a second ${name} message in a row; many chat templates require user and assistant turns to alternate`,
              at0,
              at1,
            );
          } else if (!seenNonSystem && role === R_ASSISTANT && wholeConversation) {
            sink('turn-order', 'warning', `${field}[${index}]: the conversation starts with an assistant turn, before any user message`, at0, at1);
          }
          seenNonSystem = true;
        }
      }
      previousRole = role;
      previousHadToolCalls = role === R_ASSISTANT && hasCall;
      lastRole = role;
    }
    if (wholeConversation) {
      if (assistantTurns === 0) {
        sink('no-assistant-turn', 'error', `"${field}" has no assistant message: nothing for the model to learn`, tape.start[key], tape.end[key]);
      } else if (lastRole >= 0 && lastRole !== R_ASSISTANT) {
        const m = lastMessage;
        sink(
          'last-turn-not-assistant',
          'warning',
          `the last message is not from the assistant: the final turn(s) after the last assistant reply are not trained on`,
          tape.start[m],
          tape.end[m],
        );
      }
    }
    return TOKENS_PER_MESSAGE * index + (wholeConversation ? TOKENS_PER_REPLY : 0);
  }

  private checkShareGpt(tape: JsonTape, key: number, sink: IssueSink): number {
    const list = key + 1;
    if (tape.type[list] !== T_ARRAY) {
      sink('field-type', 'error', `"conversations" must be an array of turns, found ${typeName(tape.type[list])}`, tape.start[list], tape.end[list]);
      return 0;
    }
    const end = tape.next[list];
    if (list + 1 === end) {
      sink('field-empty', 'error', '"conversations" is an empty list: no turns to train on', tape.start[list], tape.end[list]);
      return 0;
    }
    let index = 0;
    let gptTurns = 0;
    let previous = -1;
    let last = -1;
    let lastTurn = list + 1;
    let seenNonSystem = false;
    for (let m = list + 1; m < end; m = tape.next[m], index++) {
      lastTurn = m;
      if (tape.type[m] !== T_OBJECT) {
        sink(
          'field-type',
          'error',
          `conversations[${index}] must be an object with "from" and "value", found ${typeName(tape.type[m])}`,
          tape.start[m],
          tape.end[m],
        );
        continue;
      }
      let fromTok = -1;
      let valueTok = -1;
      for (let k = m + 1; k < tape.next[m]; k = tape.next[k + 1]) {
        const which = matchName(tape, k, SG_KEYS);
        if (which === 0) fromTok = k + 1;
        else if (which === 1) valueTok = k + 1;
        else if (which < 0)
          sink(
            'key-unknown',
            'warning',
            `conversations[${index}] has an unrecognised key "${stringValue(tape, k)}" (expected from, value)`,
            tape.start[k],
            tape.end[k],
          );
      }
      let speaker = -1;
      if (fromTok < 0) sink('field-missing', 'error', `conversations[${index}] has no "from"`, tape.start[m], tape.start[m] + 1);
      else if (tape.type[fromTok] !== T_STRING)
        sink(
          'field-type',
          'error',
          `conversations[${index}].from must be a string, found ${typeName(tape.type[fromTok])}`,
          tape.start[fromTok],
          tape.end[fromTok],
        );
      else {
        speaker = matchName(tape, fromTok, SHAREGPT_FROM);
        if (speaker < 0)
          sink(
            'role-unknown',
            'error',
            `unknown speaker "${stringValue(tape, fromTok)}" in conversations[${index}] (expected human, gpt or system)`,
            tape.start[fromTok],
            tape.end[fromTok],
          );
      }
      if (speaker >= 0) this.addHashed(fromTok);
      if (speaker === 6) speaker = 0; // user -> human
      if (speaker === 7) speaker = 1; // assistant -> gpt
      if (speaker === 1) gptTurns++;
      if (valueTok < 0) sink('field-missing', 'error', `conversations[${index}] has no "value"`, tape.start[m], tape.start[m] + 1);
      else if (tape.type[valueTok] !== T_STRING)
        sink(
          'field-type',
          'error',
          `conversations[${index}].value must be a string, found ${typeName(tape.type[valueTok])}`,
          tape.start[valueTok],
          tape.end[valueTok],
        );
      else {
        if (isBlankString(tape, valueTok)) {
          sink(
            'field-empty',
            speaker === 1 ? 'error' : 'warning',
            `conversations[${index}].value is empty${speaker === 1 ? ': an empty gpt turn trains the model to answer with nothing' : ''}`,
            tape.start[valueTok],
            tape.end[valueTok],
          );
        }
        this.addText(tape, valueTok);
      }
      if (speaker >= 0 && fromTok >= 0) {
        const a = tape.start[fromTok];
        const b = tape.end[fromTok];
        if (speaker === 2) {
          if (seenNonSystem) sink('turn-order', 'warning', `conversations[${index}] is a system turn after the conversation started`, a, b);
        } else if (speaker === 0 || speaker === 1) {
          if (speaker === previous)
            sink(
              'turn-order',
              'warning',
              `conversations[${index}] is a second ${speaker === 0 ? 'human' : 'gpt'} turn in a row; human and gpt turns should alternate`,
              a,
              b,
            );
          else if (!seenNonSystem && speaker === 1)
            sink('turn-order', 'warning', `conversations[${index}]: the conversation starts with a gpt turn, before any human turn`, a, b);
          seenNonSystem = true;
        } else seenNonSystem = true;
      }
      previous = speaker;
      last = speaker;
    }
    if (gptTurns === 0) sink('no-assistant-turn', 'error', '"conversations" has no gpt turn: nothing for the model to learn', tape.start[key], tape.end[key]);
    else if (last >= 0 && last !== 1)
      sink(
        'last-turn-not-assistant',
        'warning',
        'the last turn is not from gpt: the turn(s) after the last gpt reply are not trained on',
        tape.start[lastTurn],
        tape.end[lastTurn],
      );
    return TOKENS_PER_MESSAGE * index + TOKENS_PER_REPLY;
  }

  private checkPromptCompletion(tape: JsonTape, root: number, prompt: number, completion: number, sink: IssueSink): number {
    let overhead = 0;
    // conversational form (TRL): prompt and completion are lists of messages
    if (prompt >= 0 && tape.type[prompt + 1] === T_ARRAY) overhead += this.checkMessageList(tape, prompt, sink, 'prompt', false);
    else this.requireText(tape, root, prompt, 'prompt', sink, 'warning');
    if (completion >= 0 && tape.type[completion + 1] === T_ARRAY) overhead += this.checkMessageList(tape, completion, sink, 'completion', false);
    else this.requireText(tape, root, completion, 'completion', sink, 'error');
    return overhead;
  }

  private checkRecommendation(tape: JsonTape, root: number, history: number, target: number, sink: IssueSink): void {
    if (history < 0)
      sink('field-missing', 'error', 'missing "history" (the titles the user interacted with, in order)', tape.start[root], tape.start[root] + 1);
    else {
      const list = history + 1;
      if (tape.type[list] !== T_ARRAY)
        sink('field-type', 'error', `"history" must be an array of item titles, found ${typeName(tape.type[list])}`, tape.start[list], tape.end[list]);
      else if (list + 1 === tape.next[list])
        sink('field-empty', 'warning', '"history" is empty: the prompt lists no items to recommend from', tape.start[list], tape.end[list]);
      else {
        let index = 0;
        for (let t = list + 1; t < tape.next[list]; t = tape.next[t], index++) {
          if (tape.type[t] !== T_STRING)
            sink('field-type', 'error', `history[${index}] must be an item title (string), found ${typeName(tape.type[t])}`, tape.start[t], tape.end[t]);
          else {
            if (isBlankString(tape, t)) sink('field-empty', 'error', `history[${index}] is an empty title`, tape.start[t], tape.end[t]);
            this.addText(tape, t);
          }
        }
      }
    }
    this.requireText(tape, root, target, 'target', sink, 'error');
  }
}
