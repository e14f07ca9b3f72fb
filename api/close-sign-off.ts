import { type Duration } from '@temporalio/common';
import { type Config } from '../config';
import type { CloseSignOffPolicy } from '../workflows/period-close-entity';

/** Who signs off a close: the controllers (a scheduler starts it, an integration administrator runs the pipes). */
export function closeSignOffPolicy(
  config: Config,
  waits: { escalateAfter?: string; expireAfter?: string } = {},
): CloseSignOffPolicy {
  const controllers: string[] = [];
  const integrationAdmins: string[] = [];
  for (const p of config.api.keys.values()) {
    if (p.role === 'controller') controllers.push(p.id);
    if (p.role === 'integration_admin') integrationAdmins.push(p.id);
  }
  return {
    controllers,
    integrationAdmins,
    escalateTo: config.flows.periodClose.escalateTo,
    escalateAfter: (waits.escalateAfter ?? config.flows.periodClose.escalateAfter) as Duration,
    expireAfter: (waits.expireAfter ?? config.flows.periodClose.expireAfter) as Duration,
  };
}
