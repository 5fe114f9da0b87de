import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FragoMetrics, FragoSetupError } from 'nestjs-frago';
import { createTestApp, type TestApp } from '../helpers/create-test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-databases';
import { getStatus, startOk } from '../helpers/upload-client';

describe("metrics: true registers the metrics on a registry of the module's own (opt-in)", () => {
  let db: TestDatabase;
  let t: TestApp;
  before(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ db, options: { metrics: { prefix: 'uploads_' } } });
  });
  after(async () => {
    await (t as TestApp | undefined)?.close();
    await (db as TestDatabase | undefined)?.drop();
  });

  it('counts a start and a 404 under the chosen prefix, in the Prometheus text format', async () => {
    const metrics = t.app.get(FragoMetrics);
    assert.equal(metrics.enabled, true);
    assert.match(metrics.contentType, /^text\/plain/);
    await startOk(t.uploadUrl, 'a.bin', 10);
    assert.equal((await getStatus(t.uploadUrl, '00000000-0000-4000-8000-000000000000')).status, 404);
    const deadline = Date.now() + 10_000;
    let text = await metrics.text();
    while (!/uploads_requests_total\{operation="status",status="404"\} 1/.test(text) && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      text = await metrics.text();
    }
    assert.match(text, /^uploads_uploads_started_total 1$/m);
    assert.match(text, /^uploads_requests_total\{operation="start",status="201"\} 1$/m);
    assert.match(text, /^uploads_request_errors_total\{operation="status",code="UPLOAD_NOT_FOUND"\} 1$/m);
    assert.doesNotMatch(text, /^frago_/m);
  });
});

describe('metrics off (the default)', () => {
  let db: TestDatabase;
  let t: TestApp;
  before(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ db });
  });
  after(async () => {
    await (t as TestApp | undefined)?.close();
    await (db as TestDatabase | undefined)?.drop();
  });

  it('FragoMetrics says so, and asking it for the text names the option to set', () => {
    const metrics = t.app.get(FragoMetrics);
    assert.equal(metrics.enabled, false);
    assert.throws(
      () => metrics.text(),
      (error: unknown) => error instanceof FragoSetupError && /set metrics: true/.test(error.message),
    );
  });
});
