// What a call threw, for tests that assert on the error itself.
import { expect } from 'vitest';
import { PeerTargetNameError } from '../../host/index.js';

/** The error `f` throws; fails the test when it throws nothing. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function catchError(f: () => unknown): any {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}

/** The PeerTargetNameError `f` throws; fails the test on any other outcome. */
export function codecErrorOf(f: () => unknown): PeerTargetNameError {
  const error: unknown = catchError(f);
  expect(error).toBeInstanceOf(PeerTargetNameError);
  return error as PeerTargetNameError;
}
