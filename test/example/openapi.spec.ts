import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { FragoOpenApiDocument } from 'nestjs-frago';
import { startExampleApp, type ExampleApp } from '../client/support/example-app';

type Method = 'get' | 'put' | 'post' | 'delete' | 'head' | 'patch' | 'options';

/** `value` with every `{ $ref: '#/components/schemas/X' }` replaced by that component (the components hold no refs of their own). */
function resolveRefs(value: unknown, document: FragoOpenApiDocument): unknown {
  if (Array.isArray(value)) return value.map((entry) => resolveRefs(entry, document));
  if (typeof value !== 'object' || value === null) return value;
  const ref = (value as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const name = /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1];
    assert.ok(name && name in document.components.schemas, `a known $ref: ${ref}`);
    return resolveRefs(document.components.schemas[name], document);
  }
  return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, resolveRefs(entry, document)]));
}

describe('the OpenAPI document describes what the example app really answers', () => {
  let app: ExampleApp;
  let document: FragoOpenApiDocument;
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();
  const checked = new Set<string>();
  const auth = { authorization: 'Bearer alice-token' };
  const origin = (): string => app.apiUrl.replace(/\/api$/, '');

  before(async () => {
    app = await startExampleApp({ FRAGO_IDENTIFIER_MODE: 'user', FRAGO_DEMO_TOKENS: 'alice-token:alice', FRAGO_MAX_CHUNK_SIZE: '4096' });
    const response = await fetch(`${app.apiUrl}/openapi.json`);
    assert.equal(response.status, 200);
    document = (await response.json()) as FragoOpenApiDocument;
  });
  after(async () => {
    await (app as ExampleApp | undefined)?.stop();
  });

  /**
   * Sends a request and validates its answer against the document: the
   * operation and the status (or `default`) are documented, and the JSON body
   * matches the documented schema; an answer without a body documents none.
   */
  async function call(method: Method, template: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${origin()}${path}`, { ...init, method: method.toUpperCase() });
    const text = await response.text();
    const operation = (document.paths[template] as Record<string, unknown> | undefined)?.[method] as
      { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } | undefined;
    assert.ok(operation, `${method.toUpperCase()} ${template} is in the document`);
    const documented = operation.responses[String(response.status)] ?? (response.status >= 400 ? operation.responses.default : undefined);
    assert.ok(documented, `${method.toUpperCase()} ${template} documents status ${response.status} (body ${text})`);
    checked.add(`${method} ${template} ${response.status}`);
    if (text === '') {
      assert.ok(
        documented.content === undefined || method === 'head',
        `${method.toUpperCase()} ${template} ${response.status}: documented with a body, answered none`,
      );
      return { status: response.status, body: undefined };
    }
    const body: unknown = JSON.parse(text);
    const schema = documented.content?.['application/json']?.schema;
    assert.ok(schema, `${method.toUpperCase()} ${template} ${response.status} documents a JSON body: ${text}`);
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(resolveRefs(schema, document) as object);
      compiled.set(key, validate);
    }
    assert.ok(
      validate(body),
      `${method.toUpperCase()} ${template} ${response.status}: ${text}\ndoes not match the document: ${ajv.errorsText(validate.errors)}`,
    );
    return { status: response.status, body };
  }

  const jsonBody = (value: unknown): RequestInit => ({ headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(value) });
  const chunk = (range: string, bytes: Buffer): RequestInit => ({
    headers: { ...auth, 'content-type': 'application/octet-stream', 'content-range': range },
    body: new Uint8Array(bytes),
  });

  it('is an OpenAPI 3.1 document whose schemas compile, with every frago operation', () => {
    assert.equal(document.openapi, '3.1.0');
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      assert.doesNotThrow(() => ajv.compile(resolveRefs(schema, document) as object), `component ${name} compiles`);
    }
    const operations = Object.values(document.paths).flatMap((item) =>
      Object.values(item)
        .map((operation) => (operation as { operationId?: string }).operationId)
        .filter(Boolean),
    );
    for (const id of [
      'startUpload',
      'listUploads',
      'uploadStatus',
      'putChunk',
      'finalizeUpload',
      'abortUpload',
      'tusOptions',
      'tusCreate',
      'tusHead',
      'tusPatch',
      'tusTerminate',
    ]) {
      assert.ok(operations.includes(id), `${id} in ${operations.join(', ')}`);
    }
  });

  it("each frago operation's success and error answers match it", async () => {
    const collection = '/api/upload/';
    const item = '/api/upload/{id}/';
    const data = randomBytes(6000);

    // Start: 201; 400 (missing field, malformed JSON); 413; 401 (no user).
    const started = await call('post', collection, collection, jsonBody({ filename: 'report.bin', total_size: data.length }));
    assert.equal(started.status, 201);
    const id = (started.body as { upload_id: string }).upload_id;
    assert.equal((await call('post', collection, collection, jsonBody({ total_size: 5 }))).status, 400);
    assert.equal((await call('post', collection, collection, { headers: { ...auth, 'content-type': 'application/json' }, body: '{"filename":' })).status, 400);
    assert.equal((await call('post', collection, collection, jsonBody({ filename: 'huge.bin', total_size: 60 * 1024 ** 3 }))).status, 413);
    assert.equal(
      (await call('post', collection, collection, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'a', total_size: 1 }) }))
        .status,
      401,
    );
    assert.equal(
      (
        await call('post', collection, collection, {
          headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
          body: JSON.stringify({ filename: 'a', total_size: 1 }),
        })
      ).status,
      401,
    );

    // Chunk: 200, duplicate 200; 400 bad range; 409 overlap; 413 too large; 404.
    const url = `${collection}${id}/`;
    assert.equal((await call('put', item, url, chunk(`bytes 0-2999/${data.length}`, data.subarray(0, 3000)))).status, 200);
    const duplicate = await call('put', item, url, chunk(`bytes 0-2999/${data.length}`, data.subarray(0, 3000)));
    assert.equal((duplicate.body as { duplicate?: boolean }).duplicate, true);
    assert.equal((await call('put', item, url, chunk('bytes 9-1/3', Buffer.alloc(3)))).status, 400);
    assert.equal((await call('put', item, url, chunk(`bytes 1000-3999/${data.length}`, data.subarray(1000, 4000)))).status, 409);
    assert.equal((await call('put', item, url, chunk(`bytes 0-5999/${data.length}`, data))).status, 413);
    assert.equal((await call('put', item, `${collection}00000000-0000-4000-8000-000000000000/`, chunk('bytes 0-0/1', Buffer.alloc(1)))).status, 404);

    // Status and list: 200 in progress (chunks, missing); 404.
    const status = await call('get', item, url, { headers: auth });
    assert.deepEqual((status.body as { missing: unknown }).missing, [{ start: 3000, end: 5999 }]);
    assert.equal((await call('get', item, `${collection}00000000-0000-4000-8000-000000000000/`, { headers: auth })).status, 404);
    assert.equal((await call('get', collection, `${collection}?limit=10`, { headers: auth })).status, 200);
    assert.equal((await call('get', collection, `${collection}?limit=0`, { headers: auth })).status, 400);

    // Finalize: 400 incomplete (with missing), then 400 mismatch, 400 unsupported algorithm, 201, 201 again; PUT once complete 409.
    const incomplete = await call('post', item, url, jsonBody({ checksum: '0'.repeat(32) }));
    assert.equal(incomplete.status, 400);
    assert.deepEqual((incomplete.body as { missing: unknown }).missing, [{ start: 3000, end: 5999 }], JSON.stringify(incomplete.body));
    assert.equal((await call('put', item, url, chunk(`bytes 3000-5999/${data.length}`, data.subarray(3000)))).status, 200);
    assert.equal((await call('post', item, url, jsonBody({ checksum: '0'.repeat(32) }))).status, 400);
    assert.equal((await call('post', item, url, jsonBody({ checksum: '0'.repeat(32), checksum_algo: 'nope' }))).status, 400);
    const md5 = createHash('md5').update(data).digest('hex');
    assert.equal((await call('post', item, url, jsonBody({ checksum: md5 }))).status, 201);
    assert.equal((await call('post', item, url, jsonBody({ checksum: md5 }))).status, 201);
    assert.equal((await call('put', item, url, chunk(`bytes 0-2999/${data.length}`, data.subarray(0, 3000)))).status, 409);
    const complete = await call('get', item, url, { headers: auth });
    assert.equal((complete.body as { status: string }).status, 'complete');

    // Abort: 204; 404.
    const other = (await call('post', collection, collection, jsonBody({ filename: 'scratch.bin', total_size: 10 }))).body as { upload_id: string };
    assert.equal((await call('delete', item, `${collection}${other.upload_id}/`, { headers: auth })).status, 204);
    assert.equal((await call('delete', item, `${collection}${other.upload_id}/`, { headers: auth })).status, 404);
  });

  it("the tus operations' answers match it", async () => {
    const collection = '/api/files/';
    const item = '/api/files/{id}';
    const tus = { ...auth, 'tus-resumable': '1.0.0' };
    assert.equal((await call('options', collection, collection)).status, 204);
    const created = await fetch(`${origin()}${collection}`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': '5', 'upload-metadata': `filename ${Buffer.from('t.txt').toString('base64')}` },
    });
    await created.arrayBuffer();
    assert.equal(created.status, 201);
    assert.equal((await call('post', collection, collection, { headers: { ...tus, 'upload-length': '3' } })).status, 201);
    const location = created.headers.get('location') ?? '';
    const path = new URL(location, origin()).pathname;
    assert.equal((await call('head', item, path, { headers: tus })).status, 200);
    assert.equal(
      (await call('patch', item, path, { headers: { ...tus, 'upload-offset': '1', 'content-type': 'application/offset+octet-stream' }, body: 'hello' })).status,
      409,
    );
    assert.equal(
      (
        await call('patch', item, path, {
          headers: { ...tus, 'tus-resumable': '0.2.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
          body: 'hello',
        })
      ).status,
      412,
    );
    assert.equal((await call('patch', item, path, { headers: { ...tus, 'upload-offset': '0', 'content-type': 'text/plain' }, body: 'hello' })).status, 415);
    assert.equal(
      (await call('patch', item, path, { headers: { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: 'hello' })).status,
      204,
    );
    assert.equal((await call('delete', item, '/api/files/00000000-0000-4000-8000-000000000000', { headers: tus })).status, 404);
  });

  it('checked a success and an error answer of every frago operation', () => {
    for (const operation of [
      'post /api/upload/',
      'get /api/upload/',
      'get /api/upload/{id}/',
      'put /api/upload/{id}/',
      'post /api/upload/{id}/',
      'delete /api/upload/{id}/',
    ]) {
      const statuses = [...checked].filter((entry) => entry.startsWith(`${operation} `)).map((entry) => Number(entry.slice(operation.length + 1)));
      assert.ok(statuses.some((status) => status < 300) && statuses.some((status) => status >= 400), `${operation}: ${statuses.join(', ')}`);
    }
  });
});
