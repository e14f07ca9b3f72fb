import { type Config } from '../config';
import { type BudgetDecisionKind } from '../domain/approval';
import { signDecisionToken } from '../domain/decision-token';

/**
 * The token the API puts on its own `decide` updates: the authenticated caller, this workflow, this decision,
 * at whatever stage is open, valid for a minute and good for one decision. Workflows require one on every
 * decision, so an update typed into Temporal UI by someone else is refused like a forged signal.
 */
export async function callerToken(
  config: Pick<Config, 'approvals'>,
  workflowId: string,
  principal: string,
  decision: BudgetDecisionKind,
): Promise<string> {
  const { token } = await signDecisionToken(
    config.approvals.signingKey,
    { principal, workflowId, decision },
    60,
  );
  return token;
}
