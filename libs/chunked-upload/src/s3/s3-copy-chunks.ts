import type { Readable } from 'node:stream';
import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { copySource, type S3KeyLayout, type Segment } from './s3-keys';
import type { S3Objects } from './s3-objects';
import { retrying } from './s3-retry';
import { spool } from './spool';

interface CopySettings {
  objects: S3Objects;
  keys: S3KeyLayout;
  spoolDir: string;
  openRange(key: string, from: number, to: number): Promise<Readable>;
}

/**
 * tus concatenation inside the bucket: makes bytes `[0, size)` stored as
 * `chain` (of the partial upload) chunk objects of `targetId` shifted by
 * `offset`. A segment that is all of its object is copied with CopyObject
 * (no byte through the app); only a piece of an object (a lingering chunk
 * that sticks out of `[0, size)`, a range of a sealed object holding several)
 * is read and written through the app. Resolves with the chunk objects made.
 */
export async function copyChunks(settings: CopySettings, chain: Segment[], size: number, targetId: string, offset: number): Promise<Segment[]> {
  const { objects, keys } = settings;
  const { client, bucket } = objects;
  const copied: Segment[] = [];
  for (const segment of chain) {
    const from = Math.max(0, segment.start);
    const to = Math.min(size - 1, segment.end);
    const target: Segment = { key: keys.chunk(targetId, offset + from, offset + to), start: offset + from, end: offset + to };
    if (from === segment.start && to === segment.end && (await isWholeObject(objects, segment))) {
      await retrying(() => client.send(new CopyObjectCommand({ Bucket: bucket, Key: target.key, CopySource: copySource(bucket, segment.key) })));
    } else {
      const base = segment.base ?? 0;
      const body = await spool(await settings.openRange(segment.key, base + from - segment.start, base + to - segment.start), settings.spoolDir);
      try {
        await retrying(() =>
          client.send(new PutObjectCommand({ Bucket: bucket, Key: target.key, Body: body.open(), ContentLength: body.size, ContentMD5: body.md5 })),
        );
      } finally {
        await body.dispose();
      }
    }
    copied.push(target);
  }
  return copied;
}

/** True when `segment` is all of its object (a chunk object, or a sealed object of this one range). */
async function isWholeObject(objects: S3Objects, segment: Segment): Promise<boolean> {
  if (segment.base === undefined) return true;
  return segment.base === 0 && (await objects.head(segment.key))?.ContentLength === segment.end - segment.start + 1;
}
