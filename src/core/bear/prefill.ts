// The launch form's first guess from the file the user is looking at: a split file becomes the
// training split and its siblings (valid/val/test, items/id2name) fill the other fields.
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { LaunchForm } from './runConfig';

export function prefillForm(file: string | undefined, exists: (path: string) => boolean = existsSync): Partial<LaunchForm> {
  if (!file || !/\.(jsonl|json|csv)$/i.test(file)) return {};
  const dir = dirname(file);
  const base = basename(file);
  const sibling = (...names: string[]) => names.map((n) => join(dir, n)).find((p) => p !== file && exists(p)) ?? '';
  if (/^(items|id2name)\b/i.test(base)) {
    return {
      items: file,
      train: sibling('train.jsonl', 'train.csv'),
      valid: sibling('valid.jsonl', 'val.jsonl', 'valid.csv'),
      test: sibling('test.jsonl', 'test.csv'),
    };
  }
  const swap = (to: string) => base.replace(/train/i, to);
  const isTrain = /train/i.test(base);
  return {
    train: file,
    valid: isTrain ? sibling(swap('valid'), swap('val'), swap('validation')) : '',
    test: isTrain ? sibling(swap('test')) : '',
    items: sibling('items.json', 'id2name.json'),
  };
}
