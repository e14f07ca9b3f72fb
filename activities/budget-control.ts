import { type DecisionSubjectType } from '../domain/approval';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import { releaseExpiredReservations } from '../db/queries/budget-control';
import { recordRefusedControlDecision } from '../db/queries/control-refusals';
import { decideOverride, expireOverride, type OverrideRow } from '../db/queries/overrides';
import { findPeriod, getLegalEntity, loadMappings } from '../db/queries/reference';
import { asRoute, routesOverlapping } from '../db/queries/routes';
import { receives, targetsOf } from '../domain/routing';
import {
  decideTransfer,
  expireTransfer,
  markTransferPublished,
  transferById,
  type TransferRow,
} from '../db/queries/transfers';
import { withKeyLock } from '../db/queries/locks';
import { wholeCombination } from '../domain/control-budgets';
import { mapDimensions } from '../domain/mapping';
import { money, negate } from '../domain/money';
import { type TargetBudgetLine } from './connectors/types';
import { type ActivityDeps, erpFor } from './deps';
import { mappingMissing, notFound } from './failures';
import { withHeartbeat } from './heartbeat';

/** What a workflow needs back from a decision: the outcome, not the row's timestamps. */
const outcomeOf = (row: OverrideRow | TransferRow) => ({
  status: row.status,
  outcomeReason: row.outcomeReason,
});

export interface ControlDecisionInput {
  decision: 'approve' | 'reject';
  decidedBy: string;
  comment?: string;
  /** Workflow time of the decision (an ISO string), so a retry records the same instant. */
  decidedAt: string;
  correlationId: string;
}

export interface RefusedControlSignalInput {
  legalEntity: string;
  entityType: DecisionSubjectType;
  entityId: string;
  workflowId: string;
  principal: string;
  payload: unknown;
  reason: string;
  /** The refusal's position among the workflow's refused signals: with the workflow, its identity. */
  sequence: number;
  correlationId: string;
}

/** The ERP's key for a transfer's budget register entry: one entry per transfer, whatever retries or resets. */
export const transferPublicationKey = (transferId: string) => `transfer:${transferId}`;

export function createBudgetControlActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;
  return {
    /**
     * Gives back what expired reservations hold, batch after batch until none is left. Safe to repeat: a
     * reservation is released once, and a run interrupted halfway leaves the rest for the next.
     */
    async releaseExpiredReservations(input: { batchSize: number }): Promise<{ released: number }> {
      const correlationId = `reservation-expiry:${Context.current().info.workflowExecution?.workflowId ?? 'direct'}`;
      let released = 0;
      for (;;) {
        const n = await releaseExpiredReservations(db, { limit: input.batchSize, correlationId });
        released += n;
        Context.current().heartbeat({ released });
        if (n < input.batchSize) return { released };
      }
    },

    async decideOverride(input: ControlDecisionInput & { overrideId: string; ttl?: string }) {
      const row = await db.transaction((tx) =>
        decideOverride(tx, { ...input, decidedAt: new Date(input.decidedAt) }),
      );
      return outcomeOf(row);
    },

    async expireOverride(input: { overrideId: string; correlationId: string }) {
      return outcomeOf(await db.transaction((tx) => expireOverride(tx, input)));
    },

    async decideTransfer(input: ControlDecisionInput & { transferId: string }) {
      const row = await db.transaction((tx) =>
        decideTransfer(tx, { ...input, decidedAt: new Date(input.decidedAt) }),
      );
      return outcomeOf(row);
    },

    async expireTransfer(input: { transferId: string }) {
      return outcomeOf(await db.transaction((tx) => expireTransfer(tx, input)));
    },

    async markTransferPublished(input: { transferId: string; documents: string[] }) {
      return outcomeOf(await db.transaction((tx) => markTransferPublished(tx, input)));
    },

    /**
     * Posts an applied transfer to every ERP the entity publishes budgets to, as one budget register entry
     * each (the source line negative, the target line positive; a supplement has the target line only),
     * under the target's transfer budget code. Keyed by the transfer, so a retry or reset finds the entry.
     */
    async publishTransfer(input: { transferId: string }): Promise<{ documents: string[] }> {
      const t = await transferById(db, input.transferId);
      if (!t) throw notFound(`budget transfer ${input.transferId} does not exist`);
      const entity = await getLegalEntity(db, t.legalEntity);
      if (!entity) throw notFound(`legal entity ${t.legalEntity} does not exist`);
      const sides = [
        ...(t.kind === 'transfer'
          ? [
              {
                combination: wholeCombination(t.fromAccount!, t.fromCostCenter!, t.fromDimensions),
                period: t.fromPeriod!,
                sign: -1,
              },
            ]
          : []),
        {
          combination: wholeCombination(t.toAccount, t.toCostCenter, t.toDimensions),
          period: t.toPeriod,
          sign: 1,
        },
      ];
      const periods = new Map<string, { startDate: string; endDate: string }>();
      for (const side of sides) {
        const period = await findPeriod(db, entity.fiscalCalendar, side.period);
        if (!period) throw notFound(`period ${side.period} is not in calendar ${entity.fiscalCalendar}`);
        periods.set(side.period, period);
      }
      const days = [...periods.values()];
      const window = {
        from: days.map((p) => p.startDate).sort()[0]!,
        to: days.map((p) => p.endDate).sort()[days.length - 1]!,
      };
      const documents: string[] = [];
      return withHeartbeat(async ({ progress }) => {
        // Each side goes to the targets routed on its period's first day (an entity may move between them).
        for (const target of targetsOf((await routesOverlapping(db, entity.code, window)).map(asRoute))) {
          const routed = sides.filter((s) => receives(target, periods.get(s.period)!.startDate));
          if (!routed.length) continue;
          if (target.postingModel !== 'additive' && target.postingModel !== 'control-budget')
            throw ApplicationFailure.nonRetryable(
              `${target.target} holds ${entity.code}'s budget as ${target.postingModel}: a transfer reaches it with the next publication of the budget, not as an entry`,
              FailureType.ValidationFailed,
            );
          const mappings = await loadMappings(db, target.target);
          const lines: TargetBudgetLine[] = [];
          for (const [i, side] of routed.entries()) {
            const period = periods.get(side.period)!;
            const mapped = mapDimensions(mappings, side.combination, period.startDate);
            if ('missing' in mapped) {
              throw mappingMissing(
                `transfer ${t.id}: ${mapped.missing.map((m) => `${m.dimension} ${m.code}`).join(', ')} ha(s) no ${target.target} mapping on ${period.startDate}`,
                { missing: mapped.missing },
              );
            }
            const amount = money(t.amount, t.currency);
            lines.push({
              lineNumber: i + 1,
              dimensions: mapped.values,
              period: side.period,
              date: period.startDate,
              amount: side.sign < 0 ? negate(amount) : amount,
            });
          }
          const posted = await erpFor(deps, target.target).publishBudgetChunk(
            {
              idempotencyKey: transferPublicationKey(t.id),
              correlationId: t.correlationId,
              target: {
                company: target.company,
                settings: target.settings,
                postingModel: target.postingModel,
              },
              purpose: 'transfer',
              description: `closeloop ${t.kind} ${t.id}: ${t.reason}`.slice(0, 250),
              lines,
            },
            { progress, exclusive: (key, fn) => withKeyLock(db, key, fn) },
          );
          documents.push(`${target.target}:${posted.documentNumber}`);
        }
        return { documents };
      });
    },

    /** A signal cannot answer its sender: the refusal goes to the entity's control audit stream. */
    async recordRefusedControlSignal(input: RefusedControlSignalInput): Promise<void> {
      const request =
        input.payload && typeof input.payload === 'object' ? (input.payload as Record<string, unknown>) : {};
      await db.transaction((tx) =>
        recordRefusedControlDecision(tx, {
          ...input,
          via: 'signal',
          request,
          eventId: `${input.workflowId}:${input.sequence}`,
        }),
      );
    },
  };
}
