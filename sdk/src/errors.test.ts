// Error classes: one per code, built from a code in one place, unknown codes never misclassified.
import { describe, expect, it } from 'vitest';
import { errorFromCode, GatehouseError, InternalError, isErrorCode, UnavailableError } from './errors.js';

describe('errorFromCode', () => {
  it('builds the subclass of a known code, keeping message and field', () => {
    const err = errorFromCode('UNAVAILABLE', 'store down', { field: 'consistency' });
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toBeInstanceOf(GatehouseError);
    expect(err).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'store down',
      field: 'consistency',
      name: 'UnavailableError',
    });
  });

  it('turns a code from a newer server into InternalError that quotes the code', () => {
    const err = errorFromCode('QUOTA_EXCEEDED', 'slow down');
    expect(err).toBeInstanceOf(InternalError);
    expect(err.message).toBe("server answered with unknown error code 'QUOTA_EXCEEDED': slow down");
  });

  it('does not treat inherited property names as codes', () => {
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('constructor')).toBe(false);
    expect(isErrorCode('ABORTED')).toBe(true);
  });
});
