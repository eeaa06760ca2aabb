// What a built model folder holds and how to read its manifest. Kept apart from the builder so that
// listing models (the extension's Models view) does not load the ONNX graph writer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelInfo } from './api';

/** Bump when the graph changes: built models with another version are rebuilt. */
export const BUILDER_VERSION = '6';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_FILE = 'model.onnx';
export const DATA_FILE = 'model.onnx.data';

export interface ModelManifest {
  format: 'preflight-onnx-model';
  builderVersion: string;
  sourceHash: string;
  sourceDir: string;
  architecture: string;
  info: Omit<ModelInfo, 'provider'>;
  headDim: number;
  intermediateSize: number;
  parameters: number;
  storedDtype: string;
  bytes: number;
  createdAt: string;
}

export function readManifest(dir: string): ModelManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
  return manifest.format === 'preflight-onnx-model' ? manifest : undefined;
}
