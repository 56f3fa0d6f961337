import { DomainError } from '@orderflow/domain';
import { QueryFailedError } from 'typeorm';
import { ConcurrencyError, DatabaseUnavailableError, TransientDatabaseError, isTransientDatabaseError, toDatabaseError } from './errors';

/** A pg error as the driver raises it for a SQLSTATE. */
function pgError(code: string, message = `server said ${code}`): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' });
}

/** The same, as TypeORM rethrows it from a query. */
function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], pgError(code));
}

describe('toDatabaseError', () => {
  it.each([
    ['57014', 'statement timeout'],
    ['55P03', 'lock timeout'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['25P03', 'idle-in-transaction timeout'],
    ['53000', 'insufficient resources'],
    ['53100', 'disk full'],
    ['53200', 'out of memory'],
  ])('codes SQLSTATE %s (%s) as a transient database error', (code) => {
    const original = queryFailed(code);

    const error = toDatabaseError(original);

    expect(error).toBeInstanceOf(TransientDatabaseError);
    expect(error).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ code, retriable: true, cause: original });
    expect(isTransientDatabaseError(original)).toBe(true);
  });

  it.each([
    ['53300', 'too many connections'],
    ['25006', 'read-only transaction after failover'],
    ['57P01', 'admin shutdown'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'cannot connect now'],
    ['08000', 'connection exception'],
    ['08003', 'connection does not exist'],
    ['08006', 'connection failure'],
    ['08001', 'unable to connect'],
  ])('codes SQLSTATE %s (%s) as the database being unavailable', (code) => {
    expect(toDatabaseError(queryFailed(code))).toMatchObject({ name: 'DatabaseUnavailableError', code, retriable: true });
    expect(toDatabaseError(pgError(code))).toBeInstanceOf(DatabaseUnavailableError);
  });

  it.each([
    ['timeout exceeded when trying to connect', 'POOL_TIMEOUT'],
    ['Connection terminated unexpectedly', 'CONNECTION_TERMINATED'],
    ['Connection terminated due to connection timeout', 'CONNECTION_TERMINATED'],
    ['Client has encountered a connection error and is not queryable', 'CONNECTION_ERROR'],
    ['the database system is starting up', '57P03'],
    ['the database system is shutting down', '57P03'],
  ])('codes the pool or driver failure "%s" as the database being unavailable', (message, code) => {
    const error = toDatabaseError(new Error(message));

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ code, retriable: true });
    expect((error as Error).message).toContain(message);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'])('codes the socket error %s as the database being unavailable', (code) => {
    expect(toDatabaseError(Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code }))).toMatchObject({
      name: 'DatabaseUnavailableError',
      code,
    });
  });

  it.each([
    ['a unique violation', queryFailed('23505')],
    ['a syntax error', queryFailed('42601')],
    ['a dropped database', queryFailed('57P04')],
    ['a plain error', new Error('handler bug')],
    ['a domain refusal', new DomainError('ILLEGAL_STATE', 'order is already cancelled')],
    ['a domain refusal mentioning a connection', new DomainError('VALIDATION', 'Connection terminated is not an address')],
  ])('passes %s through unchanged', (_, original) => {
    expect(toDatabaseError(original)).toBe(original);
    expect(isTransientDatabaseError(original)).toBe(false);
  });

  it('keeps a ConcurrencyError as it is, retriable', () => {
    const conflict = new ConcurrencyError('order-1', 2);

    expect(toDatabaseError(conflict)).toBe(conflict);
    expect(isTransientDatabaseError(conflict)).toBe(true);
    expect(conflict.retriable).toBe(true);
  });

  it('passes an error it already coded through unchanged', () => {
    const coded = new DatabaseUnavailableError('POOL_TIMEOUT', 'pool exhausted');

    expect(toDatabaseError(coded)).toBe(coded);
  });
});
