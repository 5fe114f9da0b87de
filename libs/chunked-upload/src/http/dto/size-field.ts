import { Transform } from 'class-transformer';

/**
 * Accepts a non-negative integer given as a JSON number or a decimal string
 * (form data); anything else becomes NaN, which the validators refuse.
 */
export function IntegerField(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value === 'number') return value;
    if (typeof value === 'string' && /^\s*\d{1,16}\s*$/.test(value)) return Number(value);
    return value === undefined || value === null || value === '' ? undefined : Number.NaN;
  });
}
