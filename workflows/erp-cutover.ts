import { executeChild, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CutoverPublicationPlan, ParallelRunComparison } from '../activities/cutover';
import { dbWrite, erpCall } from './activity-profiles';
import { cutoverStatusQuery, cutoverWorkflowId, SearchAttributes } from './definitions';
import { publication } from './publication';

export interface ErpCutoverInput {
  cutoverId: string;
  legalEntity: string;
  /** `cutover`: send the new ERP what it now receives, then compare the parallel run; `rollback`: send the old
   * ERP what it missed; `compare`: compare the parallel run again (after a fix in either ERP). */
  phase: 'cutover' | 'rollback' | 'compare';
  chunkSize: number;
  correlationId: string;
}

export interface ErpCutoverStatus {
  phase: ErpCutoverInput['phase'];
  state: 'planning' | 'publishing' | 'reconciling' | 'comparing' | 'done';
  publications: (CutoverPublicationPlan & {
    status: 'publishing' | 'published';
    reconciliationExceptions?: number;
  })[];
  comparisons: ParallelRunComparison[];
}

/**
 * A cut-over's work in the ERPs (domain/cutover): its routes are already set when this runs. The budget in control
 * of every year still running is published to the ERP that now receives it, each publication computing what that
 * ERP lacks from what closeloop recorded sending it, so a retry, a reset or a second run sends nothing twice; then
 * each is reconciled, and the parallel run's holdings in the two ERPs compared line by line. Its state is the
 * `status` query.
 */
export async function erpCutover(input: ErpCutoverInput): Promise<ErpCutoverStatus> {
  const db = proxyActivities<Activities>(dbWrite);
  const erp = proxyActivities<Activities>(erpCall());
  const status: ErpCutoverStatus = {
    phase: input.phase,
    state: 'planning',
    publications: [],
    comparisons: [],
  };
  setHandler(cutoverStatusQuery, () => status);

  if (input.phase !== 'compare') {
    const plans = await db.planCutoverPublications({ cutoverId: input.cutoverId, phase: input.phase });
    status.state = 'publishing';
    for (const plan of plans) {
      const entry = { ...plan, status: 'publishing' as 'publishing' | 'published' };
      status.publications.push(entry);
      await executeChild(publication, {
        // From the cut-over's identity (the phase's own workflow ID), never the run's.
        workflowId: `${cutoverWorkflowId(input.legalEntity, input.cutoverId, input.phase)}:publish:${plan.target}:FY${plan.fiscalYear}:r${plan.revision}`,
        args: [
          {
            versionId: plan.versionId,
            target: plan.target,
            revision: plan.revision,
            chunkSize: input.chunkSize,
            correlationId: `cutover:${input.cutoverId}:${input.phase}`,
          },
        ],
        typedSearchAttributes: [
          { key: SearchAttributes.LegalEntity, value: input.legalEntity },
          { key: SearchAttributes.FiscalYear, value: plan.fiscalYear },
          { key: SearchAttributes.ErpTarget, value: plan.target },
        ],
        staticSummary: `Cut-over ${input.phase}: FY${plan.fiscalYear} to ${plan.target} (revision ${plan.revision})`,
      });
      entry.status = 'published';
    }
    status.state = 'reconciling';
    for (const entry of status.publications) {
      const r = await erp.reconcileVersion({
        versionId: entry.versionId,
        target: entry.target,
        correlationId: input.correlationId,
      });
      entry.reconciliationExceptions = r.exceptionCount;
    }
  }
  if (input.phase !== 'rollback') {
    status.state = 'comparing';
    status.comparisons = await erp.compareParallelRun({
      cutoverId: input.cutoverId,
      correlationId: input.correlationId,
    });
  }
  status.state = 'done';
  return status;
}
