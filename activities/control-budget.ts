import { appendAudit } from '../db/queries/audit';
import { activateVersionBudget } from '../db/queries/balances';
import { getVersion, setVersionStatus } from '../db/queries/budget-versions';
import { fiscalYearPeriods, getLegalEntity } from '../db/queries/reference';
import { type ActivityDeps } from './deps';
import { notFound } from './failures';

export function createControlBudgetActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /** The published version becomes the control budget requisitions, POs and invoices consume. */
    async activateControlBudget(input: { versionId: string; correlationId: string }): Promise<void> {
      await db.transaction(async (tx) => {
        const version = await getVersion(tx, input.versionId, { forUpdate: true });
        if (!version) throw notFound(`budget version ${input.versionId} does not exist`);
        if (version.status === 'active') return;
        const entity = await getLegalEntity(tx, version.legalEntity);
        if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
        const periods = (await fiscalYearPeriods(tx, entity.fiscalCalendar, version.fiscalYear)).map(
          (p) => p.period,
        );
        await activateVersionBudget(tx, { id: version.id, legalEntity: version.legalEntity, periods });
        await setVersionStatus(tx, version.id, 'active', { activatedAt: new Date() });
        await appendAudit(tx, {
          actor: 'closeloop',
          action: 'budget_version.activated',
          entityType: 'budget_version',
          entityId: version.id,
          correlationId: input.correlationId,
          eventKey: `activated:${version.id}`,
          details: {
            legalEntity: version.legalEntity,
            fiscalYear: version.fiscalYear,
            controlLevel: entity.controlLevel,
          },
        });
      });
    },
  };
}
