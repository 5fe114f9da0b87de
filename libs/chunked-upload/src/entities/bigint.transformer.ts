import type { ValueTransformer } from 'typeorm';

/**
 * 64-bit integer columns as JavaScript numbers on every driver (pg and mysql2
 * return BIGINT as strings). Sizes up to 2^53 − 1 bytes (8 PiB) are exact.
 */
export const bigintTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null | undefined) => (value === null || value === undefined ? value : Number(value)),
};

/** Epoch-millisecond BIGINT columns as `Date`, free of driver time-zone handling. */
export const epochMsTransformer: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? value.getTime() : value),
  from: (value: string | number | null | undefined) => (value === null || value === undefined ? null : new Date(Number(value))),
};
