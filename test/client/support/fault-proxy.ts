/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of the example app.
 * Request number n (1-based, counted across connections) is, in this order
 * of precedence: dropped mid-body when n % dropEvery = 0 (the connection is
 * destroyed after the first piece of the body went upstream), answered 503
 * when n % failEvery = 0, held without an answer when n % hangEvery = 0,
 * delayed by delayMs when n % delayEvery = 0, and otherwise forwarded.
 */
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

/** Which requests get which fault (0 or absent = never). */
export interface FaultPlan {
  dropEvery?: number;
  failEvery?: number;
  hangEvery?: number;
  delayEvery?: number;
  delayMs?: number;
}

/** Counters of what the proxy did. */
export interface FaultStats {
  requests: number;
  dropped: number;
  failed: number;
  hung: number;
  delayed: number;
  forwarded: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** API base through the proxy. */
  apiUrl: string;
  stats: FaultStats;
  /** Closes the proxy and every connection it holds. */
  close(): Promise<void>;
}

/** Called after a forwarded request got its upstream answer. */
export type ForwardListener = (method: string, status: number) => void;

function hits(n: number, every: number | undefined): boolean {
  return every !== undefined && every > 0 && n % every === 0;
}

/** Starts a proxy to `127.0.0.1:targetPort` applying `plan`. */
export async function startFaultProxy(targetPort: number, plan: FaultPlan = {}, onForward?: ForwardListener): Promise<FaultProxy> {
  const stats: FaultStats = { requests: 0, dropped: 0, failed: 0, hung: 0, delayed: 0, forwarded: 0 };
  const agent = new Agent({ keepAlive: true });
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse, dropMidBody: boolean): void => {
    const upstream = request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
      stats.forwarded++;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      answer.once('end', () => onForward?.(req.method ?? '', answer.statusCode ?? 0));
    });
    upstream.on('error', () => req.socket.destroy());
    if (!dropMidBody) {
      req.pipe(upstream);
      return;
    }
    const cut = (): void => {
      upstream.destroy();
      req.socket.destroy();
    };
    req.once('data', (piece: Buffer) => upstream.write(piece, cut));
    req.once('end', cut); // a body-less request is cut before it is answered
  };

  const server = createServer((req, res) => {
    const n = ++stats.requests;
    if (hits(n, plan.dropEvery)) {
      stats.dropped++;
      forward(req, res, true);
    } else if (hits(n, plan.failEvery)) {
      stats.failed++;
      req.resume();
      req.once('end', () => {
        res.writeHead(503, { 'Content-Type': 'application/json', Connection: 'close' });
        res.end(JSON.stringify({ status: false, error: 'Injected 503', code: 'PROXY_FAULT' }));
      });
    } else if (hits(n, plan.hangEvery)) {
      stats.hung++; // never answered: the client's request timeout must fire
    } else if (hits(n, plan.delayEvery)) {
      stats.delayed++;
      req.pause();
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward(req, res, false);
      }, plan.delayMs ?? 200);
      timers.add(timer);
    } else {
      forward(req, res, false);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    apiUrl: `http://127.0.0.1:${address.port}/api`,
    stats,
    async close() {
      timers.forEach((timer) => clearTimeout(timer));
      server.closeAllConnections();
      server.close();
      agent.destroy();
      await once(server, 'close').catch(() => undefined);
    },
  };
}
