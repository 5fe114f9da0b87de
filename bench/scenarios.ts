/** The benchmark scenarios (full size and `--quick`), as the README's Performance section reports them. */
import { formatBytes } from 'nestjs-frago-client';

export type BodyMode = 'multipart' | 'raw';

export interface Scenario {
  /** Letter as given to `--scenario`. */
  id: string;
  /** Short human label for the table. */
  label: string;
  fileSize: number;
  chunkSize: number;
  parallel: number;
  body: BodyMode;
  /** Report chunks per second for this scenario (the per-chunk overhead one). */
  reportChunkRate: boolean;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

function make(id: string, fileSize: number, chunkSize: number, parallel: number, body: BodyMode, reportChunkRate: boolean): Scenario {
  const label = `(${id}) ${formatBytes(fileSize)} / ${formatBytes(chunkSize)} ${body} ×${parallel}`;
  return { id, label, fileSize, chunkSize, parallel, body, reportChunkRate };
}

const FULL: Scenario[] = [
  make('a', 1 * GiB, 8 * MiB, 4, 'multipart', false),
  make('b', 1 * GiB, 8 * MiB, 4, 'raw', false),
  make('c', 1 * GiB, 64 * MiB, 8, 'multipart', false),
  make('d', 32 * MiB, 64 * KiB, 8, 'multipart', true),
];

const QUICK: Scenario[] = [
  make('a', 64 * MiB, 8 * MiB, 4, 'multipart', false),
  make('b', 64 * MiB, 8 * MiB, 4, 'raw', false),
  make('c', 128 * MiB, 32 * MiB, 8, 'multipart', false),
  make('d', 4 * MiB, 64 * KiB, 8, 'multipart', true),
];

export function selectScenarios(letters: string[], quick: boolean): Scenario[] {
  const all = quick ? QUICK : FULL;
  return all.filter((s) => letters.includes(s.id));
}

export interface Warmup {
  /** The scenario's geometry with the warm-up file's size. */
  scenario: Scenario;
  uploads: number;
}

/**
 * Unmeasured uploads that bring a fresh server (and the uploader) to a steady state
 * before the measured runs: JIT tiers, connection pools, page cache. Small chunks
 * need thousands of requests for that; big ones a few hundred MiB.
 */
export function warmupOf(scenario: Scenario): Warmup {
  if (scenario.chunkSize < MiB) {
    const fileSize = Math.min(scenario.fileSize, 32 * MiB);
    const uploads = Math.max(1, Math.min(8, Math.ceil((2048 * scenario.chunkSize) / fileSize)));
    return { scenario: { ...scenario, fileSize, label: 'warm-up' }, uploads };
  }
  const fileSize = Math.min(scenario.fileSize, 256 * MiB);
  return { scenario: { ...scenario, fileSize, chunkSize: Math.min(scenario.chunkSize, 8 * MiB), label: 'warm-up' }, uploads: 1 };
}
