import { z } from 'zod';

/**
 * The planning platforms closeloop connects (an entity is on one of them at a time, dated:
 * db/queries/planning-platforms) and the settings each needs of an entity, read by its adapter only.
 */
export const PLANNING_PLATFORMS = ['anaplan', 'adaptive'] as const;
export const PlanningPlatform = z.enum(PLANNING_PLATFORMS);
export type PlanningPlatform = z.infer<typeof PlanningPlatform>;

/** Settings an entity must give on the platform (Anaplan's model is configured for the deployment). */
export const REQUIRED_PLANNING_SETTINGS: Record<PlanningPlatform, readonly { key: string; why: string }[]> = {
  anaplan: [],
  adaptive: [
    {
      key: 'level',
      why: "the entity's level in Adaptive Planning (its cost centers are the levels under it)",
    },
    { key: 'forecastVersion', why: 'the plan version the months to come go back to' },
    { key: 'sheet', why: 'the cube sheet figures go back to' },
  ],
};
