import { InvalidInputError } from '../../errors/frago.errors';

/** A test a present value must pass, and the 400's message when it does not. */
export type FieldCheck = readonly [(value: unknown) => boolean, string];

/** How one field of a request body or query string is read. */
export interface FieldRule {
  /** The message when the value is absent (missing, null or, for integers, empty); without it an absent value is accepted. */
  required?: string;
  /** The value is a non-negative integer given as a JSON number or as a decimal string (form data, query strings). */
  integer?: boolean;
  /** Checked in order; the first that fails answers. */
  checks: readonly FieldCheck[];
}

/** A JSON number stays as it is, a string of up to 16 digits becomes its number, anything else present becomes NaN, which every integer check refuses. */
function asInteger(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*\d{1,16}\s*$/.test(value)) return Number(value);
  return value === undefined || value === null || value === '' ? undefined : Number.NaN;
}

/**
 * Reads the named fields of `plain` (a parsed JSON body, form fields or a query string), in the
 * order of `rules`; the first field that fails its rule becomes a 400 `InvalidInputError`. Fields
 * that `rules` does not name are left out of the result.
 */
export function readFields<T extends object>(plain: Readonly<Record<string, unknown>>, rules: { readonly [K in keyof T]-?: FieldRule }): T {
  const fields: Record<string, unknown> = {};
  for (const [name, rule] of Object.entries<FieldRule>(rules)) {
    const raw = Object.hasOwn(plain, name) ? plain[name] : undefined;
    const value = rule.integer === true ? asInteger(raw) : raw;
    if (value === undefined || value === null) {
      if (rule.required !== undefined) throw new InvalidInputError(rule.required);
    } else {
      const failed = rule.checks.find(([passes]) => !passes(value));
      if (failed !== undefined) throw new InvalidInputError(failed[1]);
    }
    fields[name] = value;
  }
  return fields as T;
}

export const isString = (value: unknown): boolean => typeof value === 'string';
export const isInteger = (value: unknown): boolean => Number.isInteger(value);
export const atLeast =
  (min: number) =>
  (value: unknown): boolean =>
    typeof value === 'number' && value >= min;
export const atMost =
  (max: number) =>
  (value: unknown): boolean =>
    typeof value === 'number' && value <= max;
export const shorterThan =
  (maxLength: number) =>
  (value: unknown): boolean =>
    typeof value === 'string' && value.length <= maxLength;
