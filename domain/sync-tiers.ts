/**
 * How soon an entity's actuals and commitments reach closeloop and its planning platform:
 * - near_real_time: the ERP's and procurement's events start a sync within seconds (webhooks), with the
 *   hourly schedule as a safety net for an event that never came;
 * - hourly, daily: a Temporal Schedule at that interval; events still start a sync when they arrive.
 */
export const SYNC_TIERS = ['near_real_time', 'hourly', 'daily'] as const;
export type SyncTier = (typeof SYNC_TIERS)[number];
