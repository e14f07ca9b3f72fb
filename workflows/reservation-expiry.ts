import { type Duration } from '@temporalio/common';
import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dbWrite } from './activity-profiles';

export interface ReservationExpiryInput {
  /** How often to give back what expired, e.g. "5 minutes". */
  interval: Duration;
  /** Rounds before the history starts afresh (continue-as-new). */
  roundsPerRun?: number;
}

/**
 * Budget control's long-running part: reservations nobody consumed or released are given back when they
 * expire. One run per namespace (workflow ID budget-control:reservation-expiry), round after round.
 */
export async function reservationExpiry(input: ReservationExpiryInput): Promise<void> {
  const { releaseExpiredReservations } = proxyActivities<Activities>({
    ...dbWrite,
    heartbeatTimeout: '1 minute',
  });
  for (let round = 0; round < (input.roundsPerRun ?? 500); round++) {
    await releaseExpiredReservations({ batchSize: 500 });
    await sleep(input.interval);
  }
  await continueAsNew<typeof reservationExpiry>(input);
}
