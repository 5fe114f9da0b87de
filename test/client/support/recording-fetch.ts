/**
 * A `fetch` wrapper that records every request the client makes, so tests can
 * check which chunks were sent and how often.
 */

/** One recorded request. */
export interface RecordedRequest {
  method: string;
  url: string;
  /** Parsed `Content-Range` of a PUT: inclusive start and end. */
  range?: { start: number; end: number };
  /** HTTP status of the answer, or 0 when the request failed. */
  status: number;
}

/** The wrapper and what it saw. */
export interface RecordingFetch {
  fetch: typeof fetch;
  requests: RecordedRequest[];
  /** Ranges of the PUTs the server answered 200. */
  storedRanges(): { start: number; end: number }[];
}

/** Wraps global `fetch`; `onResponse` runs after each answer (e.g. to abort after N chunks). */
export function recordingFetch(onResponse?: (request: RecordedRequest) => void): RecordingFetch {
  const requests: RecordedRequest[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const match = /^bytes (\d+)-(\d+)\/\d+$/.exec(headers.get('content-range') ?? '');
    const entry: RecordedRequest = {
      method: init?.method ?? 'GET',
      url: input instanceof Request ? input.url : String(input),
      range: match ? { start: Number(match[1]), end: Number(match[2]) } : undefined,
      status: 0,
    };
    requests.push(entry);
    const response = await fetch(input, init);
    entry.status = response.status;
    onResponse?.(entry);
    return response;
  };
  return {
    fetch: wrapped,
    requests,
    storedRanges: () => requests.filter((r) => r.method === 'PUT' && r.status === 200 && r.range).map((r) => r.range!),
  };
}
