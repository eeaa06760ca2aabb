// The model's own tokenizer: tokenizer.json through @huggingface/tokenizers, the chat template of
// tokenizer_config.json through @huggingface/jinja, BOS/EOS as config.json, tokenizer_config.json
// and generation_config.json say.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_TOKENIZER_BYTES, readJsonFileSync } from '../io/regularFile';
import { checkTokenizerRegexes } from './tokenizerRegex';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import type { ChatMessage, TextTokenizer } from './api';

type TokenField = string | { content: string } | null | undefined;

function tokenText(field: TokenField): string | undefined {
  if (!field) return undefined;
  return typeof field === 'string' ? field : field.content;
}

function readJson(path: string): Record<string, unknown> | undefined {
  return existsSync(path) ? readJsonFileSync<Record<string, unknown>>(path, { maxBytes: MAX_TOKENIZER_BYTES }) : undefined;
}

function ids(value: unknown): number[] {
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return typeof value === 'number' ? [value] : [];
}

class HfTextTokenizer implements TextTokenizer {
  readonly eosTokenIds: number[];
  readonly bosTokenId?: number;
  private readonly template?: Template;
  private readonly templateVars: Record<string, unknown>;

  constructor(
    private readonly tokenizer: Tokenizer,
    tokenizerConfig: Record<string, unknown>,
    modelConfig: Record<string, unknown> | undefined,
    generationConfig: Record<string, unknown> | undefined,
  ) {
    const bosText = tokenText(tokenizerConfig.bos_token as TokenField);
    const eosText = tokenText(tokenizerConfig.eos_token as TokenField);
    const eos = new Set<number>([...ids(generationConfig?.eos_token_id), ...ids(modelConfig?.eos_token_id)]);
    const eosFromTokenizer = eosText !== undefined ? tokenizer.token_to_id(eosText) : undefined;
    if (eosFromTokenizer !== undefined) eos.add(eosFromTokenizer);
    this.eosTokenIds = [...eos];
    const bos = bosText !== undefined ? tokenizer.token_to_id(bosText) : undefined;
    this.bosTokenId = bos ?? (typeof modelConfig?.bos_token_id === 'number' ? modelConfig.bos_token_id : undefined);
    let chatTemplate = tokenizerConfig.chat_template as string | { name: string; template: string }[] | undefined;
    if (Array.isArray(chatTemplate)) chatTemplate = (chatTemplate.find((t) => t.name === 'default') ?? chatTemplate[0])?.template;
    if (typeof chatTemplate === 'string') this.template = new Template(chatTemplate);
    this.templateVars = {
      bos_token: bosText ?? '',
      eos_token: eosText ?? '',
      pad_token: tokenText(tokenizerConfig.pad_token as TokenField) ?? '',
      unk_token: tokenText(tokenizerConfig.unk_token as TokenField) ?? '',
    };
  }

  encode(text: string, options?: { addSpecialTokens?: boolean }): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids;
  }

  decode(tokenIds: number[], options?: { skipSpecialTokens?: boolean }): string {
    return this.tokenizer.decode(tokenIds, { skip_special_tokens: options?.skipSpecialTokens ?? false });
  }

  applyChatTemplate(messages: ChatMessage[], options?: { addGenerationPrompt?: boolean }): string {
    if (!this.template) throw new Error('this model has no chat_template in tokenizer_config.json');
    return this.template.render({ ...this.templateVars, messages, add_generation_prompt: options?.addGenerationPrompt ?? false });
  }
}

/** Loads the tokenizer of a checkpoint folder or a built model folder (both hold the same files). */
export function loadTokenizer(dir: string): TextTokenizer {
  const tokenizerJson = readJson(join(dir, 'tokenizer.json'));
  if (!tokenizerJson) throw new Error(`${dir}: no tokenizer.json`);
  checkTokenizerRegexes(tokenizerJson, join(dir, 'tokenizer.json'));
  const tokenizerConfig = readJson(join(dir, 'tokenizer_config.json')) ?? {};
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  return new HfTextTokenizer(tokenizer, tokenizerConfig, readJson(join(dir, 'config.json')), readJson(join(dir, 'generation_config.json')));
}
