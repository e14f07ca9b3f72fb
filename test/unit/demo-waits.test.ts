import { cycleEnded, pollUntil } from '../../scripts/demo/client';

/** A demo that waits for a cycle stops at once when the cycle ended otherwise, and says why. */
describe('demo waits', () => {
  const invalid = {
    cycleId: 'budget-cycle:ACME-US:FY2027:BUDGET:v4',
    status: 'invalid',
    issueCount: 1,
    issues: [{ message: '600100/CC-200 in closed period 2027-03 would change from 1.00 to 2.00 USD' }],
  };

  test('an ended cycle is named with its status and reasons; a waiting one is not ended', () => {
    expect(cycleEnded(invalid)).toBe(
      'budget-cycle:ACME-US:FY2027:BUDGET:v4 is invalid (600100/CC-200 in closed period 2027-03 would change from 1.00 to 2.00 USD)',
    );
    expect(
      cycleEnded({ status: 'sent_back', decision: { principal: 'grace@acme.example', comment: 'phase it' } }),
    ).toBe('the cycle is sent_back (by grace@acme.example: phase it)');
    expect(cycleEnded({ status: 'awaiting_approval' })).toBeUndefined();
  });

  test('the wait stops on the first read that shows the end, not after its five minutes', async () => {
    let reads = 0;
    const started = Date.now();
    await expect(
      pollUntil(
        async () => {
          reads++;
          return invalid;
        },
        (s) => s.status === 'awaiting_approval',
        'stage 1',
        cycleEnded,
      ),
    ).rejects.toThrow(
      'stopped waiting for stage 1: budget-cycle:ACME-US:FY2027:BUDGET:v4 is invalid (600100/CC-200',
    );
    expect(reads).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
