import type { S3KeyLayout } from './s3-keys';
import type { S3Objects } from './s3-objects';

/** What the sweep needs from the storage and its composer. */
export interface SweepActions {
  /** Removes an upload's staging objects and aborts its composition (`remove()`). */
  remove(uploadId: string): Promise<void>;
  /** Aborts the multipart uploads under the prefix initiated before `cutoff`. */
  abortStale(cutoff: number): Promise<void>;
}

/**
 * Removes what crashed instances left under the prefix, given `cutoff` (ms
 * since the epoch) before which nothing can belong to a live upload:
 * - the staging folder of every upload whose newest object is older;
 * - name markers older than that whose name holds no published object and
 *   whose upload is gone (a finalize claimed the name, then its instance died
 *   before composing, and the upload expired): the name becomes free again.
 *   A marker beside a published object stays, it is that object's claim;
 * - multipart uploads initiated before it.
 */
export async function sweepLeftovers(objects: S3Objects, keys: S3KeyLayout, cutoff: number, actions: SweepActions): Promise<void> {
  const newest = new Map<string, number>();
  for await (const object of objects.list(keys.uploads)) {
    const id = keys.uploadOf(object.Key ?? '');
    if (!id) continue;
    newest.set(id, Math.max(newest.get(id) ?? 0, object.LastModified?.getTime() ?? 0));
  }
  for (const [id, modified] of newest) if (modified < cutoff) await actions.remove(id);

  const stale: string[] = [];
  for await (const marker of objects.list(keys.names)) {
    if (marker.Key && (marker.LastModified?.getTime() ?? Infinity) < cutoff) stale.push(marker.Key);
  }
  for (const key of stale) {
    if (await objects.exists(keys.published(key.slice(keys.names.length)))) continue;
    const owner = await objects.text(key);
    if (owner !== null && owner !== '' && (await objects.exists(keys.uploadMarker(owner)))) continue;
    await objects.delete(key);
  }

  await actions.abortStale(cutoff);
}
