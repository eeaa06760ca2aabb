// The annotation core (src/core/annotation, csv-parse), required on first use: bundled apart as
// dist/annotationCore.js beside the extension bundle (scripts/build.mjs), so activation does not
// compile it; from source (tests, tsx), ./coreBundle itself. The path is computed so that esbuild
// leaves the require alone.
//
// That bundle has its own copy of src/shared/errors: an error it throws is rebuilt here from its
// wire form (as at a worker boundary), so that `instanceof InputError` / `CancelledError` hold in
// this bundle.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromWire, toWire } from '../../shared/errors';

type Core = typeof import('./coreBundle');

let core: Core | undefined;

function rebuilt(error: unknown): Error {
  return fromWire(toWire(error));
}

/** Each function of the module, with the errors it throws or rejects with rebuilt in this bundle. */
export function withOwnErrors(module: Core): Core {
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(module)) {
    if (typeof value !== 'function') {
      wrapped[name] = value;
      continue;
    }
    wrapped[name] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = (value as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        throw rebuilt(error);
      }
      return result instanceof Promise ? result.catch((error: unknown) => Promise.reject(rebuilt(error))) : result;
    };
  }
  return wrapped as Core;
}

export function annotationCore(): Core {
  if (!core) {
    const bundled = join(__dirname, 'annotationCore.js');
    core = withOwnErrors(require(existsSync(bundled) ? bundled : join(__dirname, 'coreBundle')) as Core);
  }
  return core;
}
