import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { ClassConstructor } from 'class-transformer';
import { InvalidInputError } from '../../errors/frago.errors';

/** Builds and validates a DTO; the first failed constraint becomes a 400 `InvalidInputError`. */
export function validateDto<T extends object>(type: ClassConstructor<T>, plain: Record<string, unknown>): T {
  const instance = plainToInstance(type, plain, { enableImplicitConversion: false });
  const errors = validateSync(instance, { whitelist: true, forbidUnknownValues: false, stopAtFirstError: true });
  if (errors.length > 0) throw new InvalidInputError(firstMessage(errors[0]));
  return instance;
}

function firstMessage(error: ValidationError): string {
  const constraints = Object.values(error.constraints ?? {});
  if (constraints.length > 0) return constraints[0];
  return error.children?.length ? firstMessage(error.children[0]) : `${error.property} is invalid`;
}
