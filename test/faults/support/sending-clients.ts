import { Agent, request as httpRequest } from 'node:http';

/** The outcome of a request whose client kept sending its body: the status, or the error that replaced it. */
export type SendOutcome = { status: number; body: string } | { error: string };

const PIECE = 64 * 1024;

/**
 * A node:http client that streams `size` bytes (`head` first, then filler)
 * as fast as the socket takes them and does not stop when an answer arrives
 * (as most clients do).
 */
export function sendWithNodeHttp(
  url: string,
  method: string,
  headers: Record<string, string>,
  size: number,
  agent?: Agent,
  head: Buffer = Buffer.alloc(0),
): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: SendOutcome): void => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    const request = httpRequest(
      url,
      { method, headers: { ...headers, 'content-length': String(size) }, agent: agent ?? new Agent({ keepAlive: false }) },
      (response) => {
        const pieces: Buffer[] = [];
        response.on('data', (data: Buffer) => pieces.push(data));
        response.on('end', () => settle({ status: response.statusCode ?? 0, body: Buffer.concat(pieces).toString('utf8') }));
        response.on('error', (error: NodeJS.ErrnoException) => settle({ error: `response: ${error.code ?? error.message}` }));
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) => settle({ error: error.code ?? error.message }));
    const piece = Buffer.alloc(PIECE, 0x61);
    let sent = head.length;
    if (head.length > 0) request.write(head);
    const pump = (): void => {
      while (sent < size && !request.destroyed) {
        const length = Math.min(PIECE, size - sent);
        sent += length;
        if (!request.write(length === PIECE ? piece : piece.subarray(0, length))) {
          request.once('drain', pump);
          return;
        }
      }
      if (sent >= size && !request.destroyed) request.end();
    };
    pump();
  });
}

/** fetch with a streamed body of `size` bytes (`head` first, then filler) that keeps producing while the answer arrives. */
export async function sendWithFetch(
  url: string,
  method: string,
  headers: Record<string, string>,
  size: number,
  head: Buffer = Buffer.alloc(0),
): Promise<SendOutcome> {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0 && head.length > 0) {
        sent = head.length;
        controller.enqueue(new Uint8Array(head));
        return;
      }
      if (sent >= size) {
        controller.close();
        return;
      }
      const length = Math.min(PIECE, size - sent);
      sent += length;
      controller.enqueue(new Uint8Array(length).fill(0x62));
    },
  });
  try {
    const response = await fetch(url, { method, headers: { ...headers, 'content-length': String(size) }, body, duplex: 'half' } as RequestInit);
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
    return { error: cause?.code ?? cause?.message ?? (error as Error).message };
  }
}
