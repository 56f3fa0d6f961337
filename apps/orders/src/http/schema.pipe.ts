import type { PipeTransform } from '@nestjs/common';
import type { Static, TSchema } from '@sinclair/typebox';
import { compileValidator, type Validator } from '@orderflow/contracts';
import { DomainError } from '@orderflow/domain';

/** Validates a request body against its JSON Schema; the 400 names every offending field. */
export class SchemaPipe<T extends TSchema> implements PipeTransform<unknown, Static<T>> {
  private readonly validate: Validator<T>;

  constructor(schema: T) {
    this.validate = compileValidator(schema);
  }

  transform(value: unknown): Static<T> {
    const result = this.validate(value);
    if (result.ok) return result.value;
    const message = result.issues.map((i) => `${i.field || 'body'} ${i.message}`).join('; ');
    throw new DomainError('VALIDATION', message, result.issues);
  }
}
