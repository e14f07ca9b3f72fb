import { ApplicationFailure } from '@temporalio/common';

/** Awaits a promise expected to fail with an ApplicationFailure, and returns that failure for assertions. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}
