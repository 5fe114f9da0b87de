/** Checks of the wire format the status and list specs share. */
import assert from 'node:assert/strict';

export const GiB = 1024 ** 3;

/** Asserts `value` is an ISO 8601 date in UTC and returns its time. */
export function isoTime(value: unknown): number {
  assert.equal(typeof value, 'string', `an ISO date string: ${String(value)}`);
  const time = Date.parse(value as string);
  assert.ok(Number.isFinite(time), `parsable date: ${String(value)}`);
  assert.equal(new Date(time).toISOString(), value, 'ISO 8601 in UTC');
  return time;
}
