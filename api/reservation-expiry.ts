import { type Client } from '@temporalio/client';
import { type Duration } from '@temporalio/common';
import { type Config } from '../config';
import type { ReservationExpiryInput } from '../workflows/reservation-expiry';

export const RESERVATION_EXPIRY_WORKFLOW_ID = 'budget-control:reservation-expiry';

/** Starts the reservation-expiry workflow unless it already runs (every API start asks; one runs). */
export async function ensureReservationExpiry(client: Client, config: Config): Promise<void> {
  // The configuration's duration pattern is one the SDK reads.
  const input: ReservationExpiryInput = { interval: config.budgetControl.expiryInterval as Duration };
  await client.workflow.start('reservationExpiry', {
    workflowId: RESERVATION_EXPIRY_WORKFLOW_ID,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}
