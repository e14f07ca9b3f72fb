import { and, asc, eq, sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { planningPlatforms } from '../schema';
import { appendAudit } from './audit';
import { lockRouting, sameSettings } from './routes';

/**
 * Which planning platform each entity's budgets come from and its forecasts go back to, dated (planning as
 * data): an entity on Anaplan switched to Adaptive Planning on a day has a row ending that day and a row starting
 * it. Changes are decided under the entity's routing lock and audited in its routing stream.
 */

export type PlanningPlatformRow = typeof planningPlatforms.$inferSelect;

/** The entity's platform in force on `day` (ISO date): started on or before it, not ended by it. */
export async function planningPlatformOn(
  db: DbOrTx,
  legalEntity: string,
  day: string,
): Promise<PlanningPlatformRow | undefined> {
  const [row] = await db
    .select()
    .from(planningPlatforms)
    .where(
      and(
        eq(planningPlatforms.legalEntity, legalEntity),
        sql`${planningPlatforms.validFrom} <= ${day}::date`,
        sql`(${planningPlatforms.validTo} is null or ${planningPlatforms.validTo} > ${day}::date)`,
      ),
    );
  return row;
}

/** Every platform the entity has had or will have, oldest first. */
export function planningPlatformsOf(db: DbOrTx, legalEntity: string): Promise<PlanningPlatformRow[]> {
  return db
    .select()
    .from(planningPlatforms)
    .where(eq(planningPlatforms.legalEntity, legalEntity))
    .orderBy(asc(planningPlatforms.validFrom));
}

/**
 * A new entity starts on the platform it is created with (legal_entities.planning_system), from its first
 * day; an entity that has its platforms already keeps them.
 */
export async function startPlanningPlatforms(
  db: DbOrTx,
  entities: readonly { code: string; planningSystem: string }[],
): Promise<void> {
  if (!entities.length) return;
  await db
    .insert(planningPlatforms)
    .values(entities.map((e) => ({ legalEntity: e.code, platform: e.planningSystem })))
    .onConflictDoNothing();
}

export type PlanningSwitch =
  | { switched: true; ended: PlanningPlatformRow | undefined; started: PlanningPlatformRow }
  | { switched: false; reason: 'unchanged'; inForce: PlanningPlatformRow }
  | { switched: false; reason: 'later_switch'; later: PlanningPlatformRow };

/**
 * Moves the entity to `platform` (with its settings) from `validFrom`: the platform in force that day ends
 * then, and the new one starts. Refused while a switch is already planned after that day (end it first), and
 * nothing changes when the same platform with the same settings is in force. Decided in this transaction under
 * the entity's routing lock; audited.
 */
export async function switchPlanningPlatform(
  tx: Tx,
  s: {
    legalEntity: string;
    platform: string;
    settings: Record<string, string>;
    validFrom: string;
    by: string;
    reason: string;
    correlationId: string;
  },
): Promise<PlanningSwitch> {
  await lockRouting(tx, s.legalEntity);
  const [later] = await tx
    .select()
    .from(planningPlatforms)
    .where(
      and(
        eq(planningPlatforms.legalEntity, s.legalEntity),
        sql`${planningPlatforms.validFrom} > ${s.validFrom}::date`,
      ),
    )
    .limit(1);
  if (later) return { switched: false, reason: 'later_switch', later };
  const inForce = await planningPlatformOn(tx, s.legalEntity, s.validFrom);
  if (inForce && inForce.platform === s.platform && sameSettings(inForce.settings, s.settings))
    return { switched: false, reason: 'unchanged', inForce };
  // The row in force ends on the day (or, starting that very day, is replaced by the new one).
  const [ended] = inForce
    ? inForce.validFrom === s.validFrom
      ? await tx
          .delete(planningPlatforms)
          .where(
            and(
              eq(planningPlatforms.legalEntity, s.legalEntity),
              eq(planningPlatforms.validFrom, s.validFrom),
            ),
          )
          .returning()
      : await tx
          .update(planningPlatforms)
          .set({ validTo: s.validFrom })
          .where(
            and(
              eq(planningPlatforms.legalEntity, s.legalEntity),
              eq(planningPlatforms.validFrom, inForce.validFrom),
            ),
          )
          .returning()
    : [];
  const [started] = await tx
    .insert(planningPlatforms)
    .values({
      legalEntity: s.legalEntity,
      platform: s.platform,
      settings: s.settings,
      validFrom: s.validFrom,
    })
    .returning();
  await appendAudit(tx, {
    stream: auditStream.routing(s.legalEntity),
    actor: s.by,
    action: 'planning_platform.switched',
    entityType: 'planning_platform',
    entityId: `${s.legalEntity}:${s.validFrom}`,
    correlationId: s.correlationId,
    // The switch it made (what ended, what started) and the request: switching back and forth on one day is
    // several switches, each audited, while a retried request finds the switch made and audits nothing.
    eventKey: `planning-platform:${s.legalEntity}:${ended ? `${ended.platform}@${ended.validFrom}` : '-'}>${s.platform}@${s.validFrom}:${s.correlationId}`,
    details: {
      from: ended ? { platform: ended.platform, validFrom: ended.validFrom } : null,
      platform: s.platform,
      settings: s.settings,
      validFrom: s.validFrom,
      reason: s.reason,
    },
  });
  return { switched: true, ended, started: started! };
}
