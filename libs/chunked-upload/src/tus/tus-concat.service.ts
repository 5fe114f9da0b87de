import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { UploadStatus } from '../entities/upload-status';
import type { UploadIdentifier } from '../identifier/identifier-strategy';
import { InvalidInputError, UploadExpiredError, UploadTooLargeError } from '../errors/frago.errors';
import { UploadService } from '../services/upload.service';
import type { TusMetadata } from './tus-headers';
import { TusLedger } from './tus-ledger';
import { TusWriter } from './tus-writer';
import { tusFilename } from './tus.service';

/**
 * The tus concatenation extension: a final upload over complete
 * partial uploads, created complete. The partials are claimed in the
 * database (one final per partial, whichever instance asks), their bytes
 * made the final upload's (`ChunkStorage.concatenate`: inside the storage
 * where it can, e.g. by rename on local disk, server-side on S3), and the final upload is
 * published by frago's finalize; then the partials are removed (they are
 * never published, and go with their final upload).
 */
@Injectable()
export class TusConcatService {
  constructor(
    private readonly writer: TusWriter,
    private readonly ledger: TusLedger,
    private readonly uploads: UploadService,
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
  ) {}

  async createFinal(identifier: UploadIdentifier, parts: string[], metadata: TusMetadata): Promise<AbstractChunkUpload> {
    const unique = [...new Set(parts)];
    const sizes = await this.partSizes(identifier, unique);
    // tus §Concatenation: "The length of the final upload MUST be the sum of the length of all partial uploads."
    const total = parts.reduce((sum, id) => sum + (sizes.get(id) as number), 0);
    if (total > this.options.maxUploadSize) throw new UploadTooLargeError(this.options.maxUploadSize);
    const finalId = randomUUID();
    await this.uploads.start(identifier, tusFilename(metadata, finalId), total, { id: finalId });
    await this.ledger.insert({ uploadId: finalId, metadata: metadata.raw, lengthDeferred: false, concat: 'final', parts: parts.join(' '), finalId: null });
    if ((await this.ledger.claimParts(finalId, unique)) !== unique.length) {
      await this.ledger.releaseParts(finalId);
      await this.uploads.abort(identifier, finalId).catch(() => undefined);
      await this.ledger.remove(finalId);
      throw new InvalidInputError('A partial upload is already part of another final upload');
    }
    await this.writer.concatenate(
      finalId,
      parts.map((id) => ({ id, size: sizes.get(id) as number })),
    );
    const completed = await this.writer.completeFinal(identifier, finalId);
    await Promise.all(unique.map((id) => this.writer.removePartial(id)));
    return completed;
  }

  /** Each partial must be the caller's (else 404), a partial upload, unclaimed and complete. */
  private async partSizes(identifier: UploadIdentifier, ids: string[]): Promise<Map<string, number>> {
    const rows = new Map((await this.ledger.findMany(ids)).map((row) => [row.uploadId, row]));
    const sizes = new Map<string, number>();
    for (const id of ids) {
      const upload = await this.uploads.get(identifier, id);
      if (upload.effectiveStatus() === UploadStatus.Expired) throw new UploadExpiredError();
      const row = rows.get(id);
      if (row?.concat !== 'partial' || row.finalId) throw new InvalidInputError(`Upload ${id} is not an unused partial upload (Upload-Concat: partial)`);
      const offset = await this.ledger.offset(id);
      if (row.lengthDeferred || offset !== upload.totalSize)
        throw new InvalidInputError(`Partial upload ${id} is not complete (${offset} of ${row.lengthDeferred ? '?' : upload.totalSize} bytes)`);
      sizes.set(id, upload.totalSize);
    }
    return sizes;
  }
}
