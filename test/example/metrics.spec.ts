import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startExampleApp, type ExampleApp } from '../client/support/example-app';

/** One sample of a Prometheus text exposition: `name{a="x",b="y"} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of ((match[2] as string | undefined) ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample named `name` whose labels include `labels` (0 when there is none). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  assert.ok(found.length <= 1, `one sample ${name}${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
  return found[0]?.value ?? 0;
}

function sum(samples: Sample[], name: string): number {
  return samples.filter((sample) => sample.name === name).reduce((total, sample) => total + sample.value, 0);
}

describe('the example app serves Prometheus metrics at /api/metrics', () => {
  let app: ExampleApp;
  before(async () => {
    app = await startExampleApp();
  });
  after(async () => {
    await (app as ExampleApp | undefined)?.stop();
  });

  async function scrape(): Promise<{ contentType: string | null; samples: Sample[]; text: string }> {
    const response = await fetch(`${app.apiUrl}/metrics`);
    assert.equal(response.status, 200);
    const text = await response.text();
    return { contentType: response.headers.get('content-type'), samples: parseExposition(text), text };
  }

  /** Scrapes until the module counted `requests` requests (each is counted when its response closes). */
  async function scrapeAfter(requests: number): Promise<{ samples: Sample[]; text: string }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const result = await scrape();
      const counted = sum(result.samples, 'frago_requests_total');
      if (counted >= requests || Date.now() > deadline) {
        assert.equal(counted, requests, `requests counted:\n${result.text}`);
        return result;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('counts uploads, chunks, bytes, requests by status, errors by code and durations after real uploads and refusals, with bounded labels', async () => {
    const upload = `${app.apiUrl}/upload`;
    const data = randomBytes(3 * 1024 + 17);
    const chunkSize = 1024;
    const before = await scrape();
    assert.match(before.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(sum(before.samples, 'frago_requests_total'), 0);
    assert.ok(
      before.samples.some((sample) => sample.name === 'process_resident_memory_bytes'),
      "the process metrics are beside frago's",
    );

    let requests = 0;
    const send = async (url: string, init: RequestInit): Promise<Response> => {
      requests += 1;
      const response = await fetch(url, init);
      await response.arrayBuffer();
      return response;
    };
    const start = async (filename: string, size: number): Promise<string> => {
      const response = await fetch(upload, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filename, total_size: size }),
      });
      requests += 1;
      assert.equal(response.status, 201);
      return ((await response.json()) as { upload_id: string }).upload_id;
    };
    const put = (id: string, from: number, to: number): Promise<Response> =>
      send(`${upload}/${id}/`, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `bytes ${from}-${to - 1}/${data.length}` },
        body: data.subarray(from, to),
      });

    const id = await start('report.bin', data.length);
    for (let from = 0; from < data.length; from += chunkSize) {
      assert.equal((await put(id, from, Math.min(from + chunkSize, data.length))).status, 200);
    }
    assert.equal((await put(id, 0, chunkSize)).status, 200, 'a duplicate chunk');
    const md5 = createHash('md5').update(data).digest('hex');
    const finalize = await send(`${upload}/${id}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ checksum: md5 }),
    });
    assert.equal(finalize.status, 201);

    // Refusals: a bad Content-Range (400), an unknown upload (404), malformed JSON (Fastify's 400), a PUT once complete (409).
    const badRange = await send(`${upload}/${id}/`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 9-1/3' },
      body: 'abc',
    });
    assert.equal(badRange.status, 400);
    assert.equal((await send(`${upload}/00000000-0000-4000-8000-000000000000/`, { method: 'GET' })).status, 404);
    assert.equal((await send(`${upload}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"filename":' })).status, 400);
    assert.equal((await put(id, 0, chunkSize)).status, 409);

    // An upload aborted by its client.
    const aborted = await start('scratch.bin', 10);
    assert.equal((await send(`${upload}/${aborted}/`, { method: 'DELETE' })).status, 204);

    const { samples, text } = await scrapeAfter(requests);
    const chunks = Math.ceil(data.length / chunkSize);
    assert.equal(valueOf(samples, 'frago_uploads_started_total'), 2);
    assert.equal(valueOf(samples, 'frago_uploads_completed_total'), 1);
    assert.equal(valueOf(samples, 'frago_uploads_deleted_total'), 1);
    assert.equal(valueOf(samples, 'frago_uploads_expired_total'), 0);
    assert.equal(valueOf(samples, 'frago_checksum_failures_total'), 0);
    assert.equal(valueOf(samples, 'frago_chunks_received_total'), chunks, 'the duplicate is not received twice');
    assert.equal(valueOf(samples, 'frago_received_bytes_total'), data.length);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'start', status: '201' }), 2);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'start', status: '400' }), 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'chunk', status: '200' }), chunks + 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'chunk', status: '400' }), 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'chunk', status: '409' }), 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'finalize', status: '201' }), 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'status', status: '404' }), 1);
    assert.equal(valueOf(samples, 'frago_requests_total', { operation: 'abort', status: '204' }), 1);
    assert.equal(valueOf(samples, 'frago_request_errors_total', { operation: 'chunk', code: 'INVALID_CONTENT_RANGE' }), 1);
    assert.equal(valueOf(samples, 'frago_request_errors_total', { operation: 'chunk', code: 'UPLOAD_COMPLETE' }), 1);
    assert.equal(valueOf(samples, 'frago_request_errors_total', { operation: 'status', code: 'UPLOAD_NOT_FOUND' }), 1);
    assert.equal(valueOf(samples, 'frago_request_errors_total', { operation: 'start', code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), 1);
    assert.equal(sum(samples, 'frago_request_errors_total'), 4);
    assert.equal(valueOf(samples, 'frago_chunk_duration_seconds_count', { operation: 'chunk', outcome: 'ok' }), chunks + 1);
    assert.equal(valueOf(samples, 'frago_chunk_duration_seconds_count', { operation: 'chunk', outcome: 'rejected' }), 2);
    assert.ok(valueOf(samples, 'frago_chunk_duration_seconds_sum', { operation: 'chunk', outcome: 'ok' }) > 0);
    assert.equal(valueOf(samples, 'frago_chunk_duration_seconds_bucket', { operation: 'chunk', outcome: 'ok', le: '+Inf' }), chunks + 1);
    assert.equal(valueOf(samples, 'frago_finalize_duration_seconds_count', { outcome: 'ok' }), 1);
    assert.equal(valueOf(samples, 'frago_chunks_in_flight', { operation: 'chunk' }), 0);

    // Bounded cardinality: no label value is an upload id or a filename.
    for (const sample of samples.filter((s) => s.name.startsWith('frago_'))) {
      for (const value of Object.values(sample.labels)) {
        assert.doesNotMatch(value, /[0-9a-f]{8}-[0-9a-f]{4}|report|scratch/, `label of ${sample.name}: ${value}`);
      }
    }
    assert.ok(!text.includes(id) && !text.includes(aborted), 'no upload id in the exposition');
  });

  it('counts a chunk being received in frago_chunks_in_flight while its body arrives', async () => {
    const upload = `${app.apiUrl}/upload`;
    const response = await fetch(upload, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'slow.bin', total_size: 8 }),
    });
    const { upload_id: id } = (await response.json()) as { upload_id: string };
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3, 4]));
        await held;
        controller.enqueue(new Uint8Array([5, 6, 7, 8]));
        controller.close();
      },
    });
    const put = fetch(`${upload}/${id}/`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-range': 'bytes 0-7/8', 'content-length': '8' },
      body,
      duplex: 'half',
    } as RequestInit);
    const deadline = Date.now() + 10_000;
    let inFlight = 0;
    while (inFlight === 0 && Date.now() < deadline) {
      inFlight = valueOf((await scrape()).samples, 'frago_chunks_in_flight', { operation: 'chunk' });
    }
    assert.equal(inFlight, 1, 'the chunk whose body is arriving is in flight');
    release();
    assert.equal((await put).status, 200);
    const end = Date.now() + 10_000;
    while (inFlight !== 0 && Date.now() < end) {
      inFlight = valueOf((await scrape()).samples, 'frago_chunks_in_flight', { operation: 'chunk' });
    }
    assert.equal(inFlight, 0, 'none once it is answered');
  });
});

describe('FRAGO_METRICS=false: no /api/metrics', () => {
  let app: ExampleApp;
  before(async () => {
    app = await startExampleApp({ FRAGO_METRICS: 'false' });
  });
  after(async () => {
    await (app as ExampleApp | undefined)?.stop();
  });

  it('GET /api/metrics answers 404 and uploads still work', async () => {
    assert.equal((await fetch(`${app.apiUrl}/metrics`)).status, 404);
    const response = await fetch(`${app.apiUrl}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'a.bin', total_size: 1 }),
    });
    assert.equal(response.status, 201);
  });
});
