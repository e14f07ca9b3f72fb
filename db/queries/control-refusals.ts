import { type DecisionSubjectType } from '../../domain/approval';
import { auditStream } from '../../domain/identity';
import { type Tx } from '../client';
import { appendAudit } from './audit';

/**
 * A decision on an override or a transfer that was refused (segregation of duties, not a controller, too
 * late, malformed): by the API it is answered and audited here; by signal it cannot be answered, so this is
 * the only trace. `eventId` identifies the refusal, so a retried write records it once.
 */
export function recordRefusedControlDecision(
  tx: Tx,
  r: {
    legalEntity: string;
    entityType: DecisionSubjectType;
    entityId: string;
    principal: string;
    via: 'api' | 'signal';
    request: Record<string, unknown>;
    reason: string;
    correlationId: string;
    eventId: string;
  },
): Promise<boolean> {
  const noun = {
    funds_override: 'override',
    budget_transfer: 'transfer',
    master_data_change: 'master_data_change',
    period_close: 'period_close',
  };
  return appendAudit(tx, {
    stream:
      r.entityType === 'master_data_change'
        ? auditStream.masterData(r.legalEntity)
        : r.entityType === 'period_close'
          ? auditStream.periodClose(r.legalEntity)
          : auditStream.control(r.legalEntity),
    actor: r.principal,
    action: `${noun[r.entityType]}.decision_refused`,
    entityType: r.entityType,
    entityId: r.entityId,
    correlationId: r.correlationId,
    eventKey: `refused:${r.entityType}:${r.entityId}:${r.via}:${r.eventId}`,
    details: { via: r.via, request: r.request, reason: r.reason },
  });
}
