import { z } from 'zod';
import { EssState } from '../../../domain/oracle-ess';
import { protocolFailure } from '../http';
import { type OracleRest, SYSTEM } from './rest';

const StatusItem = z.object({ RequestStatus: EssState });

/** The state of one ESS request, by the `ESSJobStatusRF` finder (its states and outcomes: domain/oracle-ess.ts). */
export async function readEssJobState(rest: OracleRest, requestId: string): Promise<EssState> {
  for await (const page of rest.collection('erpintegrations', StatusItem, {
    finder: `ESSJobStatusRF;requestId=${requestId}`,
  })) {
    const [item] = page;
    if (item) return item.RequestStatus;
  }
  throw protocolFailure(SYSTEM, `erpintegrations knows no ESS request ${requestId}`);
}
