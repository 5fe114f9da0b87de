import { Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, UseFilters, UseGuards } from '@nestjs/common';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import type { FastifyRequest } from 'fastify';
import { UploadIdentifierGuard } from '../identifier/upload-identifier.guard';
import { UploadIdentifier } from '../identifier/upload-identifier.decorator';
import { UploadNotFoundError } from '../errors/frago.errors';
import { ChunkService } from '../services/chunk.service';
import { FinalizeService } from '../services/finalize.service';
import { UploadService } from '../services/upload.service';
import type { ChunkUploadedResponse, FinalizeUploadResponse, StartUploadResponse, UploadListEntry, UploadStatusResponse } from '../protocol/wire.types';
import { parseContentRange } from './content-range';
import { parseChunkDigests } from './content-digest';
import { chunkSourceFromRequest } from './chunk-body';
import { readFormFields } from './form-fields';
import { FragoExceptionFilter } from './frago-exception.filter';
import { toListEntry, toStatusResponse } from './responses';
import { readStartUpload } from './dto/start-upload.dto';
import { readFinalizeUpload } from './dto/finalize-upload.dto';
import { readListUploadsQuery } from './dto/list-uploads.query';
import { UPLOAD_ID_PATTERN } from '../protocol/upload-id';

/** `:id` must be a UUID; anything else is an upload that does not exist (404). */
function uploadId(id: string): string {
  if (!UPLOAD_ID_PATTERN.test(id)) throw new UploadNotFoundError();
  return id.toLowerCase();
}

/**
 * frago's operations (start, chunk, finalize, status, list, abort). Routes only: read input, call a service,
 * shape the reply. Mounted at `routePrefix` by `createUploadController()`.
 */
@UseGuards(UploadIdentifierGuard)
@UseFilters(FragoExceptionFilter)
export class ChunkedUploadController {
  constructor(
    private readonly uploads: UploadService,
    private readonly chunks: ChunkService,
    private readonly finalizer: FinalizeService,
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
  ) {}

  @Post()
  @HttpCode(201)
  async start(@Req() request: FastifyRequest, @UploadIdentifier() identifier: unknown): Promise<StartUploadResponse> {
    const body = readStartUpload(await readFormFields(request));
    const upload = await this.uploads.start(identifier, body.filename, body.total_size);
    return { status: true, upload_id: upload.id, message: `Upload started for ${upload.filename}` };
  }

  @Get()
  async list(@Query() query: Record<string, unknown>, @UploadIdentifier() identifier: unknown): Promise<UploadListEntry[]> {
    const { limit = 50, offset = 0, status } = readListUploadsQuery(query);
    const uploads = await this.uploads.list(identifier, status, limit, offset);
    const now = Date.now();
    const received = await this.uploads.receivedBytes(uploads, now);
    return uploads.map((upload) => toListEntry(upload, now, received.get(upload.id) ?? 0));
  }

  @Get(':id')
  async status(@Param('id') id: string, @UploadIdentifier() identifier: unknown): Promise<UploadStatusResponse> {
    return toStatusResponse(await this.uploads.status(identifier, uploadId(id)));
  }

  @Put(':id')
  @HttpCode(200)
  async putChunk(@Param('id') id: string, @Req() request: FastifyRequest, @UploadIdentifier() identifier: unknown): Promise<ChunkUploadedResponse> {
    const checkedId = uploadId(id);
    const range = parseContentRange(request.headers['content-range']);
    const digests = parseChunkDigests(request.headers['content-digest'], request.headers['content-md5']);
    const source = chunkSourceFromRequest(request, range.size, {
      minBytesPerSecond: this.options.minChunkBodyRate,
      windowMs: this.options.chunkBodyRateWindow,
    });
    const { duplicate } = await this.chunks.put(identifier, checkedId, range, digests, source);
    const reply: ChunkUploadedResponse = { status: true, message: 'Chunk uploaded', start: range.start, end: range.end, size: range.size };
    return duplicate ? { ...reply, message: 'Duplicate chunk already uploaded; skipped', duplicate: true } : reply;
  }

  @Post(':id')
  @HttpCode(201)
  async finalize(@Param('id') id: string, @Req() request: FastifyRequest, @UploadIdentifier() identifier: unknown): Promise<FinalizeUploadResponse> {
    const checkedId = uploadId(id);
    const body = readFinalizeUpload(await readFormFields(request));
    const upload = await this.finalizer.finalize(identifier, checkedId, { checksum: body.checksum, algorithm: body.checksum_algo });
    return { status: true, upload_id: upload.id, message: `Upload completed for ${upload.filename}` };
  }

  @Delete(':id')
  @HttpCode(204)
  async abort(@Param('id') id: string, @UploadIdentifier() identifier: unknown): Promise<void> {
    await this.uploads.abort(identifier, uploadId(id));
  }
}
