// The shared error types are matched by type, also after crossing a thread boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, fromWire, InputError, throwIfCancelled, toWire } from '../../../src/shared/errors';

test('throwIfCancelled throws CancelledError only once the signal fired', () => {
  const controller = new AbortController();
  assert.doesNotThrow(() => throwIfCancelled(controller.signal));
  assert.doesNotThrow(() => throwIfCancelled(undefined));
  controller.abort();
  assert.throws(
    () => throwIfCancelled(controller.signal, 'build cancelled'),
    (e: unknown) => e instanceof CancelledError && e.message === 'build cancelled',
  );
});

test('errors keep their type and code across the wire (structured clone)', () => {
  const cancelled = fromWire(structuredClone(toWire(new CancelledError('operation cancelled'))));
  assert.ok(cancelled instanceof CancelledError);
  assert.equal(cancelled.message, 'operation cancelled');
  const input = fromWire(structuredClone(toWire(new InputError('input-file', 'a.json: not valid JSON'))));
  assert.ok(input instanceof InputError);
  assert.equal((input as InputError).code, 'input-file');
  assert.equal(input.message, 'a.json: not valid JSON');
  const other = fromWire(structuredClone(toWire(new RangeError('bug'))));
  assert.ok(!(other instanceof CancelledError) && !(other instanceof InputError));
  assert.equal(other.name, 'RangeError');
  assert.equal(toWire('text').message, 'text');
});
