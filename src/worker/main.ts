// The inference worker thread: hosts ONNX Runtime (whose run() would otherwise block the extension
// host) and serves the requests of src/shared/protocol/worker.ts with the in-process model of src/core/model.
import { parentPort } from 'node:worker_threads';
import type { InferenceModel } from '../core/model/api';
import { buildModel } from '../core/model/build';
import type { ForecastOptions } from '../core/mdf/forecast';
import { forecastCached } from '../core/mdf/reportCache';
import { openModel } from '../core/model/runtime';
import { transferables, WorkerRequest, WorkerResponse } from '../shared/protocol/worker';
import { toWire } from '../shared/errors';

const port = parentPort;
if (!port) throw new Error('src/worker/main.ts must run in a worker thread');

let model: InferenceModel | undefined;
const running = new Map<number, AbortController>();

function need(): InferenceModel {
  if (!model) throw new Error('no model is open in this worker');
  return model;
}

async function handle(req: WorkerRequest, signal: AbortSignal): Promise<unknown> {
  switch (req.method) {
    case 'build':
      return buildModel(req.params.src, req.params.out, {
        dtype: req.params.dtype,
        force: req.params.force,
        signal,
        onProgress: (progress) => port!.postMessage({ id: req.id, kind: 'progress', progress } satisfies WorkerResponse),
      });
    case 'open': {
      if (model) await model.dispose();
      model = await openModel(req.params.dir, {
        ...req.params.options,
        onNotice: (message) => port!.postMessage({ id: -1, kind: 'notice', message } satisfies WorkerResponse),
      });
      return model.info;
    }
    case 'forward':
      return need().forward(req.params.batch, { ...req.params.options, signal });
    case 'score':
      return need().scoreContinuations(req.params.pairs, { ...req.params.options, signal });
    case 'generate':
      return need().generate(req.params.prompts, { ...req.params.options, signal });
    case 'forecast':
      return forecastCached(need(), req.params.file, {
        ...(req.params.options as Omit<ForecastOptions, 'signal' | 'onProgress'>),
        signal,
        onProgress: (progress) => port!.postMessage({ id: req.id, kind: 'progress', progress } satisfies WorkerResponse),
      });
    case 'cancel':
      running.get(req.params.target)?.abort();
      return undefined;
    case 'dispose':
      for (const c of running.values()) c.abort();
      await model?.dispose();
      model = undefined;
      return undefined;
  }
}

port.on('message', async (req: WorkerRequest) => {
  const controller = new AbortController();
  running.set(req.id, controller);
  try {
    const result = await handle(req, controller.signal);
    port.postMessage({ id: req.id, kind: 'result', result } satisfies WorkerResponse, transferables(result));
  } catch (error) {
    port.postMessage({ id: req.id, kind: 'error', error: toWire(error) } satisfies WorkerResponse);
  } finally {
    running.delete(req.id);
  }
});
