// Which models exist: built model folders (manifest.json + model.onnx) under the given roots, and what
// a configured path holds (a built model, a Hugging Face checkpoint still to build, or nothing usable).
// The one rule for both kinds of folder lives here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MODEL_FILE, ModelManifest, readManifest } from './manifest';

export type ModelEntry =
  | { kind: 'built'; dir: string; name: string; manifest: ModelManifest }
  | { kind: 'checkpoint'; dir: string; name: string }
  | { kind: 'invalid'; dir: string; name: string; reason: string };

/**
 * The one rule for what a Hugging Face checkpoint folder is (the CLI, the extension and the Models
 * view all ask here): what the builder needs, config.json, tokenizer.json and safetensors weights.
 * Returns what is missing, or null for a checkpoint.
 */
export function checkpointMissing(dir: string): string | null {
  const missing: string[] = [];
  if (!existsSync(join(dir, 'config.json'))) missing.push('config.json');
  if (!existsSync(join(dir, 'tokenizer.json'))) missing.push('tokenizer.json');
  if (!readdirSync(dir).some((f) => f.endsWith('.safetensors'))) missing.push('*.safetensors');
  return missing.length ? missing.join(', ') : null;
}

export function isCheckpointDir(dir: string): boolean {
  return existsSync(dir) && statSync(dir).isDirectory() && checkpointMissing(dir) === null;
}

/** What one folder holds. */
export function describeModelDir(dir: string): ModelEntry {
  const name = basename(dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { kind: 'invalid', dir, name, reason: 'folder not found' };
  try {
    const manifest = readManifest(dir);
    if (manifest && existsSync(join(dir, MODEL_FILE))) return { kind: 'built', dir, name, manifest };
    if (manifest) return { kind: 'invalid', dir, name, reason: `manifest.json without ${MODEL_FILE}: build the model again` };
  } catch (error) {
    return { kind: 'invalid', dir, name, reason: `unreadable manifest.json: ${error instanceof Error ? error.message : String(error)}` };
  }
  const missing = checkpointMissing(dir);
  if (!missing) return { kind: 'checkpoint', dir, name };
  return {
    kind: 'invalid',
    dir,
    name,
    reason: `neither a built model (manifest.json, model.onnx) nor a Hugging Face checkpoint (config.json, tokenizer.json, *.safetensors): no ${missing}`,
  };
}

/** Built models directly inside each root (e.g. the extension's global storage `models/`), plus the extra folders given. */
export function listModels(roots: string[], extra: string[] = []): ModelEntry[] {
  const out: ModelEntry[] = [];
  const seen = new Set<string>();
  for (const dir of extra.filter(Boolean)) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    out.push(describeModelDir(dir));
  }
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (seen.has(dir)) continue;
      const entry = describeModelDir(dir);
      if (entry.kind === 'built') {
        seen.add(dir);
        out.push(entry);
      }
    }
  }
  return out;
}

/** "24.6M" / "7.2B" */
export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** The folder name a build of `src` gets under a models root: readable and unique per source path + dtype. */
export function buildFolderName(srcDir: string, dtype: string, hashOfPath: string): string {
  const safe =
    basename(srcDir)
      .replace(/[^\w.-]+/g, '_')
      .slice(0, 60) || 'model';
  return `${safe}-${dtype}-${hashOfPath.slice(0, 8)}`;
}
