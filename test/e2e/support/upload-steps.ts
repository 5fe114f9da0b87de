/** Upload steps of the finalize specs: a file sent in given pieces, or whole, without finalizing. */
import assert from 'node:assert/strict';
import { chunkRanges, putChunk, startOk } from '../../helpers/upload-client';

/** Starts an upload of `data` and sends the given [start, endExclusive) pieces of it. */
export async function uploadPieces(url: string, filename: string, data: Buffer, pieces: Array<[number, number]>): Promise<string> {
  const id = await startOk(url, filename, data.length);
  for (const [start, end] of pieces) {
    const response = await putChunk(url, id, data.subarray(start, end), start, data.length);
    assert.equal(response.status, 200, JSON.stringify(response.body));
  }
  return id;
}

/** Starts and fully uploads `data` in chunks of `chunkSize`, without finalizing. */
export function uploadWhole(url: string, filename: string, data: Buffer, chunkSize = 4096): Promise<string> {
  return uploadPieces(
    url,
    filename,
    data,
    chunkRanges(data.length, chunkSize).map(({ start, end }) => [start, end]),
  );
}
