import { withSlot } from '../../db/queries/locks';
import { startStack, type TestStack } from '../harness/stack';

/**
 * An account-wide concurrency limit kept in the database: every caller (every worker of a deployment) takes one
 * of the limit's slots, waits while none is free, and gives up with the caller's error after its wait.
 */
describe('slots shared through PostgreSQL', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(() => stack?.stop());

  test('never more at once than the limit; a caller that cannot get one in time is told so', async () => {
    let running = 0;
    let most = 0;
    const hold = (ms: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, ms));
      running--;
      return 'done';
    };
    const full = () => new Error('no slot free');
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(() =>
        withSlot(stack.db, 'netsuite:TEST', 2, hold(80), { waitMs: 5000, onFull: full }),
      ),
    );
    expect(results).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(most).toBe(2);

    const busy = [1, 2].map(() =>
      withSlot(stack.db, 'netsuite:TEST', 2, hold(400), { waitMs: 5000, onFull: full }),
    );
    await new Promise((r) => setTimeout(r, 50));
    await expect(
      withSlot(stack.db, 'netsuite:TEST', 2, hold(1), { waitMs: 100, onFull: full }),
    ).rejects.toThrow('no slot free');
    await Promise.all(busy);
  });
});
