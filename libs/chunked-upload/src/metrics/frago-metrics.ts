import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FRAGO_OPTIONS, FRAGO_ROUTE_PREFIX, FRAGO_TUS_PATH } from '../chunked-upload.constants';
import { FragoSetupError } from '../errors/frago-setup.error';
import { FragoEvents } from '../events/frago-events';
import type { ChunkReceivedEvent } from '../events/upload.events';
import { rejectionCodeOf } from '../http/request-outcome';
import type { FragoMetricsRegistry, ResolvedChunkedUploadOptions } from '../options/chunked-upload-options.interface';
import { type FragoOperation, operationResolver } from './operations';

/** How a request ended, as a label: never more than these four values. */
type Outcome = 'ok' | 'rejected' | 'failed' | 'aborted';

/** Seconds: a chunk takes from milliseconds (small, local disk) to minutes (256 MiB over a slow link). */
const CHUNK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds: finalize hashes the whole file (a 50 GiB file takes minutes). */
const FINALIZE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** A label value that is not one of the module's codes (which are all of this shape) is counted as OTHER. */
const CODE_SHAPE = /^[A-Z][A-Z0-9_]{0,63}$/;

interface Instruments {
  registry: Registry;
  uploadsStarted: Counter;
  uploadsCompleted: Counter;
  uploadsExpired: Counter;
  uploadsDeleted: Counter;
  checksumFailures: Counter;
  chunksReceived: Counter;
  bytesReceived: Counter;
  requests: Counter<'operation' | 'status'>;
  errors: Counter<'operation' | 'code'>;
  chunkDuration: Histogram<'operation' | 'outcome'>;
  finalizeDuration: Histogram<'outcome'>;
  chunksInFlight: Gauge<'operation'>;
}

/**
 * Prometheus metrics of the module, on when the options say
 * `metrics: true` (or `{ registry, prefix }`); needs the optional peer
 * `prom-client`. Uploads started/completed/expired/deleted, checksum failures,
 * chunks and bytes received come from the module's events; requests by
 * operation and status, errors by operation and code, chunk and finalize
 * durations and the chunks in flight are measured at the HTTP edge (a Fastify
 * hook on the module's routes). Labels take only fixed values (operation,
 * status, outcome, error code), never an id or a filename.
 *
 * Serve {@link text} with {@link contentType} from a route of yours (the
 * example app's `/api/metrics`), or give your own prom-client `Registry` as
 * `metrics.registry` and serve that.
 * @publicApi
 */
@Injectable()
export class FragoMetrics implements OnModuleInit, OnModuleDestroy {
  private instruments: Instruments | null = null;
  private readonly listeners: Array<[string, (payload: unknown) => void]> = [];

  constructor(
    @Inject(FRAGO_OPTIONS) private readonly options: ResolvedChunkedUploadOptions,
    @Inject(FRAGO_ROUTE_PREFIX) private readonly routePrefix: string,
    @Inject(FRAGO_TUS_PATH) private readonly tusPath: string | null,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly emitter?: EventEmitter2,
  ) {}

  /** Whether the options turned the metrics on. */
  get enabled(): boolean {
    return this.options.metrics !== null;
  }

  /** The prom-client Registry the metrics are on (the one given as `metrics.registry`, or the module's own). */
  get registry(): FragoMetricsRegistry {
    return this.on().registry;
  }

  /** Content-Type of {@link text} (Prometheus text exposition format). */
  get contentType(): string {
    return this.on().registry.contentType;
  }

  /** Every metric of {@link registry} in the Prometheus text format. */
  text(): Promise<string> {
    return this.on().registry.metrics();
  }

  onModuleInit(): void {
    const settings = this.options.metrics;
    if (settings === null) return;
    const prom = loadPromClient();
    const registry = (settings.registry as Registry | null) ?? new prom.Registry();
    const name = (suffix: string): string => `${settings.prefix}${suffix}`;
    const registers = [registry];
    const counter = (suffix: string, help: string): Counter => new prom.Counter({ name: name(suffix), help, registers });
    this.instruments = {
      registry,
      uploadsStarted: counter('uploads_started_total', 'Uploads started (upload.started).'),
      uploadsCompleted: counter('uploads_completed_total', 'Uploads verified and published (upload.completed).'),
      uploadsExpired: counter('uploads_expired_total', 'Uploads the sweeper expired (upload.expired).'),
      uploadsDeleted: counter('uploads_deleted_total', 'Uploads a client aborted (upload.deleted).'),
      checksumFailures: counter('checksum_failures_total', 'Finalizations whose whole-file checksum did not match (checksum.failed).'),
      chunksReceived: counter('chunks_received_total', 'Chunks durably stored and recorded (chunk.received; tus PATCH bodies included).'),
      bytesReceived: counter('received_bytes_total', 'Bytes of the chunks received.'),
      requests: new prom.Counter({
        name: name('requests_total'),
        help: 'Requests to the upload routes by operation and HTTP status ("aborted": the connection closed before the answer).',
        labelNames: ['operation', 'status'],
        registers,
      }),
      errors: new prom.Counter({
        name: name('request_errors_total'),
        help: 'Requests answered with an error body, by operation and frago error code (4xx: the client; 5xx: the server or a dependency).',
        labelNames: ['operation', 'code'],
        registers,
      }),
      chunkDuration: new prom.Histogram({
        name: name('chunk_duration_seconds'),
        help: 'Time from the request of a chunk (frago PUT, tus PATCH) to its answer, body included.',
        labelNames: ['operation', 'outcome'],
        buckets: CHUNK_BUCKETS,
        registers,
      }),
      finalizeDuration: new prom.Histogram({
        name: name('finalize_duration_seconds'),
        help: 'Time of a finalize request (coverage check, whole-file hash, publication).',
        labelNames: ['outcome'],
        buckets: FINALIZE_BUCKETS,
        registers,
      }),
      chunksInFlight: new prom.Gauge({
        name: name('chunks_in_flight'),
        help: 'Chunk requests (frago PUT, tus PATCH) being received now.',
        labelNames: ['operation'],
        registers,
      }),
    };
    this.subscribe(this.instruments);
    this.installHook(this.instruments);
  }

  onModuleDestroy(): void {
    for (const [event, listener] of this.listeners.splice(0)) this.emitter?.off(event, listener);
  }

  private on(): Instruments {
    if (!this.instruments) {
      throw new FragoSetupError(
        'the metrics are off: set metrics: true (or { registry, prefix }) in the ChunkedUploadModule options, with prom-client installed',
      );
    }
    return this.instruments;
  }

  private subscribe(m: Instruments): void {
    const on = (event: string, listener: (payload: unknown) => void): void => {
      this.emitter?.on(event, listener);
      this.listeners.push([event, listener]);
    };
    on(FragoEvents.UploadStarted, () => {
      m.uploadsStarted.inc();
    });
    on(FragoEvents.UploadCompleted, () => {
      m.uploadsCompleted.inc();
    });
    on(FragoEvents.UploadExpired, () => {
      m.uploadsExpired.inc();
    });
    on(FragoEvents.UploadDeleted, () => {
      m.uploadsDeleted.inc();
    });
    on(FragoEvents.ChecksumFailed, () => {
      m.checksumFailures.inc();
    });
    on(FragoEvents.ChunkReceived, (payload) => {
      m.chunksReceived.inc();
      m.bytesReceived.inc((payload as ChunkReceivedEvent).size);
    });
  }

  /** One onRequest hook: each request of the module's routes is counted when its response closes (answered or cut). */
  private installHook(m: Instruments): void {
    // No HTTP adapter (an application context): only the event counters apply.
    const adapter = this.adapterHost.httpAdapter as { getInstance?: () => unknown } | undefined;
    const instance = adapter?.getInstance?.() as Partial<FastifyInstance> | undefined;
    if (!instance || typeof instance.addHook !== 'function') return;
    const operationOf = operationResolver(this.routePrefix, this.tusPath);
    (instance as FastifyInstance).addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const operation = operationOf(request);
      if (operation) observe(m, operation, request, reply);
      done();
    });
  }
}

function observe(m: Instruments, operation: FragoOperation, request: FastifyRequest, reply: FastifyReply): void {
  const started = process.hrtime.bigint();
  const chunk = operation === 'chunk' || operation === 'tus_patch';
  if (chunk) m.chunksInFlight.inc({ operation });
  reply.raw.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const answered = reply.raw.writableFinished;
    const status = reply.statusCode;
    const outcome: Outcome = !answered ? 'aborted' : status >= 500 ? 'failed' : status >= 400 ? 'rejected' : 'ok';
    m.requests.inc({ operation, status: answered ? String(status) : 'aborted' });
    if (answered && status >= 400) {
      const code = rejectionCodeOf(request) ?? `HTTP_${status}`;
      m.errors.inc({ operation, code: CODE_SHAPE.test(code) ? code : 'OTHER' });
    }
    if (chunk) {
      m.chunksInFlight.dec({ operation });
      m.chunkDuration.observe({ operation, outcome }, seconds);
    } else if (operation === 'finalize') {
      m.finalizeDuration.observe({ outcome }, seconds);
    }
  });
}

/** prom-client, loaded only when the metrics are on (it is an optional peer dependency). */
function loadPromClient(): typeof import('prom-client') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer: loaded only when metrics are on
    return require('prom-client') as typeof import('prom-client');
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code !== 'MODULE_NOT_FOUND') throw error;
    throw new FragoSetupError(
      'metrics are on, but prom-client is not installed: npm install prom-client (an optional peer dependency of nestjs-frago), or leave metrics off',
    );
  }
}
