// Worker-thread entry of live validation (see liveValidation.ts): keeps a copy of each open buffer,
// applies the editor's edits to it, and validates it on request with validateText, the same code
// and findings as in-process validation. Bundled as dist/liveValidationWorker.js.
import { readFileSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { LiveRequest, LiveResponse } from './liveValidation';
import { TextMirror } from './textMirror';
import { validateText } from './validate';

const buffers = new Map<string, TextMirror>();
/** buffers arriving in slices: key -> the slices so far (LiveValidator.openBufferInSlices) */
const partial = new Map<string, { seq: number; version: number; eol: '\n' | '\r\n'; parts: string[] }>();
const utf8 = new TextDecoder('utf-8'); // drops a BOM and shows invalid bytes as U+FFFD, as the editor does

async function handle(request: LiveRequest): Promise<LiveResponse | undefined> {
  switch (request.kind) {
    case 'open':
      buffers.delete(request.key);
      partial.delete(request.key);
      if (request.more) partial.set(request.key, { seq: request.seq ?? 0, version: request.version, eol: request.eol, parts: [request.text] });
      else buffers.set(request.key, new TextMirror(request.text, request.version, request.eol));
      return undefined;
    case 'append': {
      const sending = partial.get(request.key);
      if (!sending || sending.seq !== request.seq) return undefined; // a stale sending: a newer 'open' replaced it
      sending.parts.push(request.text);
      if (!request.more) {
        partial.delete(request.key);
        buffers.set(request.key, new TextMirror(sending.parts.join(''), sending.version, sending.eol));
      }
      return undefined;
    }
    case 'open-file':
      partial.delete(request.key);
      try {
        // a file larger than the buffer can be (it changed on disk) is not read: the text is sent
        if (statSync(request.path).size > request.maxBytes) throw new RangeError('the file is larger than the buffer');
        buffers.set(request.key, new TextMirror(utf8.decode(readFileSync(request.path)), request.version, request.eol));
      } catch {
        buffers.delete(request.key); // unreadable: the next validation asks for the text
      }
      return undefined;
    case 'edit': {
      const mirror = buffers.get(request.key);
      if (!mirror) return undefined;
      try {
        mirror.apply(request.edits, request.version);
      } catch {
        buffers.delete(request.key); // out of step: the next validation asks for the whole text
      }
      return undefined;
    }
    case 'close':
      buffers.delete(request.key);
      partial.delete(request.key);
      return undefined;
    case 'validate': {
      const mirror = buffers.get(request.key);
      if (mirror) mirror.eol = request.expect.eol; // an end-of-line change comes without edits
      if (!mirror || mirror.version !== request.version || mirror.lineCount !== request.expect.lines || mirror.length !== request.expect.length) {
        return { id: request.id, kind: 'unsynced' };
      }
      const text = mirror.text();
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > request.limitBytes) return { id: request.id, kind: 'too-large', bytes };
      return { id: request.id, kind: 'result', result: await validateText(text, request.file, request.options) };
    }
  }
}

// one request at a time, in order: an edit never lands in the middle of a validation of its buffer
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (request: LiveRequest) => {
  queue = queue.then(async () => {
    let response: LiveResponse | undefined;
    try {
      response = await handle(request);
    } catch (error) {
      if (request.kind === 'validate') response = { id: request.id, kind: 'error', message: error instanceof Error ? error.message : String(error) };
    }
    if (response) parentPort!.postMessage(response);
  });
});
