/**
 * The end of a crash-and-restart fault spec: the client resends what status
 * says is missing, every resend is stored, the finalize completes, and the
 * published file equals the source byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppProcess } from '../../helpers/app-process';
import { digest, finalize, putChunk } from '../../helpers/upload-client';

/** Resends `missing` (END inclusive) of `data` to `app`, finalizes, and checks `<dataDir>/assembled_uploads/<name>`. */
export async function resendAndFinalize(
  app: AppProcess,
  upload: { id: string; data: Buffer; name: string; dataDir: string },
  missing: Array<{ start: number; end: number }>,
): Promise<void> {
  const { id, data } = upload;
  const resent = await Promise.all(missing.map((range) => putChunk(app.uploadUrl, id, data.subarray(range.start, range.end + 1), range.start, data.length)));
  assert.deepEqual(
    resent.map((answer) => answer.status),
    missing.map(() => 200),
    JSON.stringify(resent.map((a) => a.body)),
  );
  const done = await finalize(app.uploadUrl, id, { checksum: digest(data) });
  assert.equal(done.status, 201, JSON.stringify(done.body));
  assert.deepEqual(readFileSync(join(upload.dataDir, 'assembled_uploads', upload.name)), data);
}
