// A .json file: a top-level array of records (the layout `datasets` and many exporters write),
// or a single record object. The array is scanned element by element, so the tape only ever
// holds one record; positions come from a line index over the whole buffer.
import { FindingCollector } from './findings';
import { JsonTape, T_OBJECT, skipWs } from './jsonScan';
import { DocumentLocator, RecordPipeline } from './pipeline';
import { JsonLayout, jsonLayoutOf } from '../../shared/dataFiles';

/** The layout of a .json buffer by the shared rule, decoding only its first line and only when
 *  more follows (a one-line document of hundreds of megabytes is never turned into a string). */
export function jsonLayoutOfBytes(buf: Uint8Array): JsonLayout {
  const bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  const s = skipWs(buf, bom, buf.length);
  if (s >= buf.length) return 'document';
  const nl = buf.indexOf(10, s);
  const moreFollows = nl >= 0 && skipWs(buf, nl, buf.length) < buf.length;
  return jsonLayoutOf(new TextDecoder().decode(buf.subarray(s, moreFollows ? nl : s + 1)), moreFollows);
}

export function validateJsonDocument(buf: Uint8Array, collector: FindingCollector, pipeline: RecordPipeline): void {
  const bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  const e = buf.length;
  const loc = new DocumentLocator(buf, bom);
  const tape = new JsonTape();
  tape.reset(buf);
  let pos = skipWs(buf, bom, e);
  const fail = (at: number, message: string) => pipeline.report(loc, 'json-malformed', 'error', `malformed JSON: ${message}`, at, at + 1);
  if (pos >= e) return;
  if (buf[pos] !== 0x5b) {
    if (!tape.scanDocument(buf, pos, e)) {
      fail(tape.errorOffset, tape.errorMessage);
      return;
    }
    if (tape.type[0] !== T_OBJECT) {
      pipeline.report(loc, 'json-top-level', 'error', 'a .json training file must hold an array of records (or one record object)', tape.start[0], tape.end[0]);
      return;
    }
    pipeline.handle(tape, 0, loc, tape.start[0], tape.end[0], 0);
    return;
  }
  // [ record, record, ... ]
  pos = skipWs(buf, pos + 1, e);
  if (pos < e && buf[pos] === 0x5d) {
    pos++;
  } else {
    for (;;) {
      tape.reset(buf);
      const start = pos;
      const end = tape.scanValue(buf, pos, e);
      if (end < 0) {
        fail(tape.errorOffset, tape.errorMessage);
        return;
      }
      pipeline.handle(tape, 0, loc, start, end, 0);
      pos = skipWs(buf, end, e);
      if (pos >= e) {
        fail(pos, "unexpected end of file: ']' is missing");
        return;
      }
      if (buf[pos] === 0x5d) {
        pos++;
        break;
      }
      if (buf[pos] !== 0x2c) {
        fail(pos, "expected ',' or ']' after a record");
        return;
      }
      pos = skipWs(buf, pos + 1, e);
      if (pos < e && buf[pos] === 0x5d) {
        fail(pos, "unexpected ']' after ',': trailing comma");
        return;
      }
    }
  }
  pos = skipWs(buf, pos, e);
  if (pos < e) fail(pos, 'unexpected data after the end of the top-level array');
}
