// Whole-report reuse: a forecast whose file content, model, signature options, probe suites and
// forecast settings are all unchanged is read back from disk instead of recomputed. (The signature
// cache alone already skips the expensive pass over the data when only probe settings change.)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { ensureCacheDir } from '../io/cacheDir';
import { MAX_CONFIG_BYTES, readRegularFileSync } from '../io/regularFile';
import { join } from 'node:path';
import type { InferenceModel } from '../model/api';
import { ForecastOptions, forecast } from './forecast';
import { hashFile } from './records';
import { MdfReport, REPORT_SCHEMA } from './report';
import { signatureKey } from './signature';
import { MDF_DEFAULTS } from '../settings/schema';
import { builtinNeutralCorpus } from './neutral';

/**
 * The one report cache key of the CLI and the extension: the file's content, the model's fingerprint
 * (of the built model folder, core/mdf/signature.ts modelFingerprint) and every forecast option with
 * the schema's defaults filled in, so that a default passed explicitly (the CLI) or left out (the
 * extension) gives the same key. Where the model came from and where the cache lives do not count.
 */
export function reportKey(fileSha256: string, options: ForecastOptions): string {
  const { suites, signal: _s, onProgress: _p, signature: _sig, cacheDir: _c, modelPath: _m, modelLabel: _l, ...given } = options;
  const neutralPath = options.neutral === false ? null : (options.neutral ?? builtinNeutralCorpus());
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  const settings = Object.fromEntries(Object.entries({ ...MDF_DEFAULTS, ...defined }).sort(([a], [b]) => a.localeCompare(b)));
  const material = JSON.stringify({
    schema: REPORT_SCHEMA,
    signature: signatureKey(fileSha256, { ...MDF_DEFAULTS, ...defined } as ForecastOptions),
    reference: options.reference ? `${options.reference}:${statSync(options.reference).size}:${statSync(options.reference).mtimeMs}` : null,
    // the neutral control's corpus by content: the bundled file may change with a new release
    neutral: neutralPath === null ? null : existsSync(neutralPath) ? createHash('sha256').update(readFileSync(neutralPath)).digest('hex') : 'missing',
    settings,
    suites: suites.map((s) => ({ name: s.name, kind: s.kind, behaviours: s.behaviours })),
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

/** The report (and signature) cache of a workspace folder: the CLI's --workspace, the extension's workspace folder. */
export function reportCacheDir(workspace: string): string {
  return join(workspace, '.preflight', 'cache', 'mdf');
}

/** forecast() through the report cache in `<cacheDir>/reports/`; the boolean says whether it was reused. */
export async function forecastCached(model: InferenceModel, file: string, options: ForecastOptions): Promise<{ report: MdfReport; reused: boolean }> {
  if (!options.cacheDir) return { report: await forecast(model, file, options), reused: false };
  const key = reportKey(await hashFile(file), options);
  const dir = join(options.cacheDir, 'reports');
  const path = join(dir, `${key}.json`);
  if (existsSync(path)) {
    try {
      const report = JSON.parse(readRegularFileSync(path, { encoding: 'utf8', maxBytes: MAX_CONFIG_BYTES })) as MdfReport;
      // the same built model may be reached through another path (a checkpoint or its build): say which
      if (report.schema === REPORT_SCHEMA)
        return {
          report: {
            ...report,
            file: { ...report.file, path: file },
            model: { ...report.model, path: options.modelPath ?? report.model.path, ...options.modelLabel },
          },
          reused: true,
        };
    } catch {
      // a broken cache entry is recomputed
    }
  }
  const report = await forecast(model, file, options);
  ensureCacheDir(dir);
  writeFileSync(`${path}.tmp`, JSON.stringify(report));
  renameSync(`${path}.tmp`, path);
  return { report, reused: false };
}
