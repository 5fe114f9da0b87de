/**
 * Human-friendly sizes and durations for the CLI: parse `8M`, `512K`, `1G` or
 * plain bytes; print durations as `1:07` (sizes: ../format-bytes).
 */

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Parses a byte size such as `8M`, `8MiB`, `512k`, `1.5G` or `1048576` (binary units); throws on anything else. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (match === null) throw new RangeError(`invalid size "${text}" (examples: 8M, 512K, 1048576)`);
  const bytes = Math.round(Number(match[1]) * UNITS[match[2].toLowerCase()]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new RangeError(`size must be positive, got "${text}"`);
  return bytes;
}

/** Formats seconds as `m:ss` or `h:mm:ss`; `--:--` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
