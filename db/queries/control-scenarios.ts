import { sql } from 'drizzle-orm';
import { auditStream } from '../../domain/identity';
import { DEFAULT_CONTROL_SCENARIO } from '../../domain/model';
import { APPROVED_STATUSES } from '../../domain/version-lifecycle';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';

/**
 * Which scenario is in control of an entity's fiscal year. Its versions are published and reserved against;
 * every other scenario's versions are validated, approved and kept for reporting, never posted. A cycle
 * deciding which way its approved version goes and a controller changing control both lock the year's row,
 * so a version is never published under a scenario that just lost control.
 */

export interface ControlScenario {
  legalEntity: string;
  fiscalYear: number;
  scenario: string;
  changedBy: string | null;
  changedAt: string | null;
}

/** The scenario in control (BUDGET when nobody chose one), without locking. */
export async function controlScenarioOf(
  db: DbOrTx,
  legalEntity: string,
  fiscalYear: number,
): Promise<ControlScenario> {
  const [row] = (await db.execute(sql`
    select scenario, changed_by as "changedBy", changed_at::text as "changedAt" from control_scenarios
     where legal_entity = ${legalEntity} and fiscal_year = ${fiscalYear}`)) as unknown as Omit<
    ControlScenario,
    'legalEntity' | 'fiscalYear'
  >[];
  return {
    legalEntity,
    fiscalYear,
    ...(row ?? { scenario: DEFAULT_CONTROL_SCENARIO, changedBy: null, changedAt: null }),
  };
}

/** Row-locks the year's control (creating it with the default) and returns the scenario in control. */
export async function lockControlScenario(tx: Tx, legalEntity: string, fiscalYear: number): Promise<string> {
  await tx.execute(sql`
    insert into control_scenarios (legal_entity, fiscal_year, scenario)
    values (${legalEntity}, ${fiscalYear}, ${DEFAULT_CONTROL_SCENARIO}) on conflict do nothing`);
  const [row] = (await tx.execute(sql`
    select scenario from control_scenarios where legal_entity = ${legalEntity} and fiscal_year = ${fiscalYear}
       for update`)) as unknown as { scenario: string }[];
  return row!.scenario;
}

export type ControlChange =
  | { changed: boolean; control: ControlScenario }
  /** Versions past approval in the scenario losing or gaining control: the change would strand them. */
  | { refused: { scenario: string; version: number; status: string }[]; control: ControlScenario };

/**
 * Puts another scenario in control of the year, audited. Refused while either scenario has a version past
 * approval: the one in control has posted (or is about to post) to the ERPs and holds the control budget,
 * and the other's approved versions were kept without publication; switching would leave the ERPs and
 * budget control on a scenario nobody approved for them. Choosing the one already in control changes nothing.
 */
export async function setControlScenario(
  tx: Tx,
  c: {
    legalEntity: string;
    fiscalYear: number;
    scenario: string;
    actor: string;
    reason: string;
    correlationId: string;
  },
): Promise<ControlChange> {
  const current = await lockControlScenario(tx, c.legalEntity, c.fiscalYear);
  if (current === c.scenario)
    return { changed: false, control: await controlScenarioOf(tx, c.legalEntity, c.fiscalYear) };
  const blocking = (await tx.execute(sql`
    select scenario, version_number as version, status from budget_versions
     where legal_entity = ${c.legalEntity} and fiscal_year = ${c.fiscalYear}
       and scenario in (${current}, ${c.scenario})
       and status in (${sql.join(
         APPROVED_STATUSES.map((s) => sql`${s}`),
         sql`, `,
       )})
     order by scenario, version_number`)) as unknown as {
    scenario: string;
    version: number;
    status: string;
  }[];
  if (blocking.length)
    return { refused: blocking, control: await controlScenarioOf(tx, c.legalEntity, c.fiscalYear) };
  await tx.execute(sql`
    update control_scenarios set scenario = ${c.scenario}, changed_by = ${c.actor}, changed_at = now()
     where legal_entity = ${c.legalEntity} and fiscal_year = ${c.fiscalYear}`);
  await appendAudit(tx, {
    stream: auditStream.budget(c.legalEntity),
    actor: c.actor,
    action: 'budget.control_scenario_changed',
    entityType: 'fiscal_year',
    entityId: `${c.legalEntity}:FY${c.fiscalYear}`,
    correlationId: c.correlationId,
    eventKey: `control-scenario:${c.legalEntity}:FY${c.fiscalYear}:${c.scenario}:${c.correlationId}`,
    details: { from: current, to: c.scenario, reason: c.reason },
  });
  return { changed: true, control: await controlScenarioOf(tx, c.legalEntity, c.fiscalYear) };
}
