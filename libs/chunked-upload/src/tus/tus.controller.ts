import { Delete, Head, HttpCode, Inject, Options, Param, Patch, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FRAGO_OPTIONS } from '../chunked-upload.constants';
import type { ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { UploadIdentifierGuard } from '../identifier/upload-identifier.guard';
import { UploadIdentifier } from '../identifier/upload-identifier.decorator';
import { UploadStatus } from '../entities/upload-status';
import type { AbstractChunkUpload } from '../entities/abstract-chunk-upload.entity';
import { InvalidInputError, UploadNotFoundError } from '../errors/frago.errors';
import {
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXTENSIONS,
  TUS_REQUEST_HEADERS,
  TUS_VERSION,
  checkPatchContentType,
  checkTusResumable,
  hasUploadBody,
  httpDate,
  methodOverride,
  parseContentLength,
  parseDeferLength,
  parseUploadChecksum,
  parseUploadConcat,
  parseUploadLength,
  parseUploadMetadata,
  parseUploadOffset,
} from './tus-headers';
import { tusCommonHeaders } from './tus-response';
import { tusBodyFromRequest } from './tus-body';
import { TusExceptionFilter } from './tus-exception.filter';
import { TusService, type TusPatch } from './tus.service';
import { TusConcatService } from './tus-concat.service';
import { UPLOAD_ID_PATTERN } from '../protocol/upload-id';

function uploadId(id: string): string {
  if (!UPLOAD_ID_PATTERN.test(id)) throw new UploadNotFoundError();
  return id.toLowerCase();
}

/** The collection URL of a request (`/api/files/<id>` → `/api/files`). */
function collectionPath(request: FastifyRequest, hasId: boolean): string {
  const path = request.url.split('?')[0].replace(/\/+$/, '');
  return hasId ? path.slice(0, path.lastIndexOf('/')) : path;
}

/**
 * tus 1.0.0, mounted at `tusPath` by `createTusController()`.
 * Routes only: check the tus headers, call `TusService`, set the reply's
 * headers. Errors go through `TusExceptionFilter`.
 */
@UseFilters(TusExceptionFilter)
export class TusController {
  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    private readonly tus: TusService,
    private readonly concat: TusConcatService,
  ) {}

  /** Discovery and CORS preflight (no Tus-Resumable needed, no identifier). */
  @Options()
  @HttpCode(204)
  discover(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.sendOptions(request, reply);
  }

  @Options(':id')
  @HttpCode(204)
  discoverUpload(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.sendOptions(request, reply);
  }

  @Post()
  @UseGuards(UploadIdentifierGuard)
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @UploadIdentifier() identifier: unknown): Promise<void> {
    tusCommonHeaders(request, reply);
    checkTusResumable(request.headers['tus-resumable']);
    const metadata = parseUploadMetadata(request.headers['upload-metadata']);
    const concat = parseUploadConcat(request.headers['upload-concat']);
    let upload: AbstractChunkUpload;
    let offset = 0;
    if (concat.kind === 'final') {
      // tus §Concatenation: "The Client MUST NOT include the Upload-Length header in the final upload creation."
      if (request.headers['upload-length'] !== undefined) throw new InvalidInputError('A final upload (Upload-Concat: final) takes no Upload-Length');
      upload = await this.concat.createFinal(identifier, concat.parts, metadata);
      offset = upload.totalSize;
    } else {
      const length = parseUploadLength(request.headers['upload-length']);
      const deferLength = parseDeferLength(request.headers['upload-defer-length']);
      upload = await this.tus.create(identifier, { length, deferLength, metadata, partial: concat.kind === 'partial' });
      if (hasUploadBody(request.headers['content-type'])) {
        // creation-with-upload: the body is the first PATCH at offset 0.
        const patch = {
          offset: 0,
          contentLength: parseContentLength(request.headers['content-length']),
          checksum: parseUploadChecksum(request.headers['upload-checksum']),
        };
        ({ upload, offset } = await this.patchWith(identifier, upload.id, patch, request));
      }
    }
    // tus §Creation: "The Server MUST acknowledge a successful upload creation with the 201 Created status.
    // The Server MUST set the Location header to the URL of the created resource."
    reply.header('Location', `${collectionPath(request, false)}/${upload.id}`);
    reply.header('Upload-Offset', String(offset));
    this.expiresHeader(reply, upload);
    reply.status(201).send();
  }

  /** POST with X-HTTP-Method-Override (tus §X-HTTP-Method-Override), for clients behind proxies that drop PATCH/DELETE. */
  @Post(':id')
  @UseGuards(UploadIdentifierGuard)
  async overridden(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @UploadIdentifier() identifier: unknown,
  ): Promise<void> {
    const method = methodOverride(request.headers['x-http-method-override']);
    if (method === 'PATCH') return this.patch(id, request, reply, identifier);
    if (method === 'DELETE') return this.terminate(id, request, reply, identifier);
    if (method === 'HEAD') return this.head(id, request, reply, identifier);
    tusCommonHeaders(request, reply);
    throw new UploadNotFoundError();
  }

  @Head(':id')
  @UseGuards(UploadIdentifierGuard)
  async head(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @UploadIdentifier() identifier: unknown): Promise<void> {
    tusCommonHeaders(request, reply);
    checkTusResumable(request.headers['tus-resumable']);
    const info = await this.tus.info(identifier, uploadId(id));
    // tus §HEAD: "The Server MUST always include the Upload-Offset header in the response for a HEAD request, even if the
    // offset is 0, or the upload is already considered completed. If the size of the upload is known, the Server MUST
    // include the Upload-Length header in the response." […] "The Server MUST prevent the client and/or proxies from
    // caching the response by adding the Cache-Control: no-store header to the response."
    reply.header('Cache-Control', 'no-store');
    reply.header('Upload-Offset', String(info.offset));
    if (info.length !== null) reply.header('Upload-Length', String(info.length));
    // creation-defer-length: "If the length is not known, Upload-Defer-Length: 1 MUST be included in HEAD responses" (sense of tus §Upload-Defer-Length).
    else reply.header('Upload-Defer-Length', '1');
    if (info.tus?.metadata) reply.header('Upload-Metadata', info.tus.metadata);
    // tus §Concatenation: "The Server MUST include the Upload-Concat header in HEAD responses" of partial and final uploads.
    if (info.tus?.concat === 'partial') reply.header('Upload-Concat', 'partial');
    if (info.tus?.concat === 'final') {
      const base = collectionPath(request, true);
      reply.header(
        'Upload-Concat',
        `final;${(info.tus.parts ?? '')
          .split(' ')
          .map((part) => `${base}/${part}`)
          .join(' ')}`,
      );
    }
    this.expiresHeader(reply, info.upload);
    reply.status(200).send();
  }

  @Patch(':id')
  @UseGuards(UploadIdentifierGuard)
  async patch(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @UploadIdentifier() identifier: unknown): Promise<void> {
    tusCommonHeaders(request, reply);
    checkTusResumable(request.headers['tus-resumable']);
    checkPatchContentType(request.headers['content-type']);
    const patch = {
      offset: parseUploadOffset(request.headers['upload-offset']),
      length: parseUploadLength(request.headers['upload-length']),
      contentLength: parseContentLength(request.headers['content-length']),
      checksum: parseUploadChecksum(request.headers['upload-checksum']),
    };
    const { upload, offset } = await this.patchWith(identifier, uploadId(id), patch, request);
    // tus §PATCH: "The Server MUST acknowledge successful PATCH requests with the 204 No Content status. It MUST include
    // the Upload-Offset header containing the new offset."
    reply.header('Upload-Offset', String(offset));
    this.expiresHeader(reply, upload);
    reply.status(204).send();
  }

  @Delete(':id')
  @UseGuards(UploadIdentifierGuard)
  async terminate(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @UploadIdentifier() identifier: unknown): Promise<void> {
    tusCommonHeaders(request, reply);
    checkTusResumable(request.headers['tus-resumable']);
    await this.tus.terminate(identifier, uploadId(id));
    // tus §Termination: "When receiving a DELETE request for an existing upload the Server SHOULD free associated
    // resources and MUST respond with the 204 No Content status confirming that the upload was terminated."
    reply.status(204).send();
  }

  /** Runs a PATCH; a refused one has the rest of its body thrown away. */
  private async patchWith(identifier: unknown, id: string, patch: TusPatch, request: FastifyRequest): Promise<{ upload: AbstractChunkUpload; offset: number }> {
    const body = tusBodyFromRequest(request, { minBytesPerSecond: this.options.minChunkBodyRate, windowMs: this.options.chunkBodyRateWindow });
    try {
      return await this.tus.patch(identifier, id, patch, body);
    } catch (error) {
      body.discard();
      throw error;
    }
  }

  private sendOptions(request: FastifyRequest, reply: FastifyReply): void {
    tusCommonHeaders(request, reply);
    // tus §OPTIONS: "A successful response indicated by the 204 No Content or 200 OK status MUST contain the Tus-Version header."
    reply.header('Tus-Version', TUS_VERSION);
    reply.header('Tus-Extension', TUS_EXTENSIONS.join(','));
    reply.header('Tus-Max-Size', String(this.options.maxUploadSize));
    reply.header('Tus-Checksum-Algorithm', TUS_CHECKSUM_ALGORITHMS.join(','));
    reply.header('Access-Control-Allow-Methods', 'POST, HEAD, PATCH, DELETE, OPTIONS');
    reply.header('Access-Control-Allow-Headers', TUS_REQUEST_HEADERS.join(', '));
    reply.header('Access-Control-Max-Age', '86400');
    reply.status(204).send();
  }

  /** tus §Expiration: "This header MUST be included in every PATCH response if the upload is going to expire." */
  private expiresHeader(reply: FastifyReply, upload: AbstractChunkUpload): void {
    if (upload.status === UploadStatus.InProgress) reply.header('Upload-Expires', httpDate(upload.expiresAt));
  }
}
