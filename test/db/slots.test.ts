import { withSlot, withSlots } from '../../db/queries/locks';
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

  test('a batch takes the free slots it wants at once and the limit still holds for everyone', async () => {
    const full = () => new Error('no slot free');
    let running = 0;
    let most = 0;
    const request = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
    };
    // One caller holds one of three slots until the batch has its own: a batch wanting five gets the two left,
    // and runs two at a time.
    let holding!: () => void;
    const singleHolds = new Promise<void>((r) => (holding = r));
    let batchHas!: () => void;
    const batchHolds = new Promise<void>((r) => (batchHas = r));
    const single = withSlot(
      stack.db,
      'netsuite:BATCH',
      3,
      async () => {
        holding();
        await batchHolds;
        await request();
      },
      { waitMs: 5000, onFull: full },
    );
    await singleHolds;
    const lanes = await withSlots(
      stack.db,
      'netsuite:BATCH',
      3,
      5,
      async (taken) => {
        batchHas();
        await Promise.all(Array.from({ length: taken }, () => request().then(() => request())));
        return taken;
      },
      { waitMs: 5000, onFull: full },
    );
    await single;
    expect(lanes).toBe(2);
    expect(most).toBeLessThanOrEqual(3);

    // While a batch holds every slot, a single request waits for it, and gets one once the batch ends.
    const order: string[] = [];
    let allTaken!: () => void;
    const batchHoldsAll = new Promise<void>((r) => (allTaken = r));
    const batch = withSlots(
      stack.db,
      'netsuite:BATCH',
      3,
      3,
      async (taken) => {
        allTaken();
        await new Promise((r) => setTimeout(r, 150));
        order.push(`batch of ${taken}`);
      },
      { waitMs: 5000, onFull: full },
    );
    await batchHoldsAll;
    await withSlot(stack.db, 'netsuite:BATCH', 3, async () => void order.push('single'), {
      waitMs: 5000,
      onFull: full,
    });
    await batch;
    expect(order).toEqual(['batch of 3', 'single']);
  });
});
