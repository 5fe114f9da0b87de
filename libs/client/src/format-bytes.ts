const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * Formats a byte count with a binary unit, one decimal unless the value is
 * whole: `999 B`, `1.5 KiB`, `8 MiB`, `421.3 MiB`. Used by the CLI, the demo
 * page and the bench, so all three print sizes alike.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${UNITS[unit]}`;
}
