// What a built model folder holds and how to read its manifest. Kept apart from the builder so that
// listing models (the extension's Models view) does not load the ONNX graph writer.
import { existsSync } from 'node:fs';
import { InputFileError, MAX_CONFIG_BYTES, readJsonFileSync } from '../io/regularFile';
import { join } from 'node:path';
import type { ModelManifest } from '../../shared/model';

export type { ModelManifest };

/** Bump when the graph changes: built models with another version are rebuilt. */
export const BUILDER_VERSION = '6';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

export function readManifest(dir: string): ModelManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  const manifest = readJsonFileSync<ModelManifest>(path, { maxBytes: MAX_CONFIG_BYTES });
  if (!manifest || typeof manifest !== 'object' || manifest.format !== 'preflight-onnx-model') return undefined;
  // a hand-edited or truncated manifest: say so, instead of failing later on a missing field
  const info = manifest.info as unknown as Record<string, unknown> | undefined;
  const fields = ['numLayers', 'hiddenSize', 'vocabSize', 'numHeads', 'numKvHeads', 'maxPositions'];
  const bad = !info || typeof info !== 'object' ? 'info' : fields.find((f) => !Number.isSafeInteger(info[f]) || (info[f] as number) <= 0);
  if (bad)
    throw new InputFileError(
      `${path}: the manifest's '${bad === 'info' ? 'info' : `info.${bad}`}' is missing or not a positive integer; rebuild the model (preflight build-model --force)`,
    );
  return manifest;
}
