/**
 * An approver's commands over closeloop's API, as the principal of their API key:
 *
 *   npm run closeloop -- approvals inbox
 *   npm run closeloop -- approvals review  <cycleId>
 *   npm run closeloop -- approvals approve <cycleId> [--comment "…"]
 *   npm run closeloop -- approvals reject  <cycleId> --comment "…"
 *   npm run closeloop -- approvals delegate --to <principal> --from <YYYY-MM-DD> --until <YYYY-MM-DD> --reason "…"
 */

import type { ReviewLine } from '../../db/queries/approval-policies';

type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

interface InboxItem {
  cycleId: string;
  submittedBy: string;
  total?: { amount: string; currency: string };
  status: string;
  stage: { number: number; of: number };
  levels: { key: string; required: number; approvals: number; onBehalfOf?: string }[];
}

export async function approvalsCommand(
  call: Call,
  command: string,
  arg: string | undefined,
  opts: { comment?: string; to?: string; from?: string; until?: string; reason?: string },
) {
  const cycle = () => {
    if (!arg) throw new Error(`approvals ${command} needs a cycle ID (see: approvals inbox)`);
    return encodeURIComponent(arg);
  };
  switch (command) {
    case 'inbox': {
      const { assignee, items } = (await call('GET', '/approvals?assignee=me')) as {
        assignee: string;
        items: InboxItem[];
      };
      console.log(`${items.length} awaiting ${assignee}`);
      for (const i of items)
        console.log(
          `  ${i.cycleId}  ${i.total ? `${i.total.amount} ${i.total.currency}` : ''}  stage ${i.stage.number}/${i.stage.of}  ` +
            `${i.levels.map((l) => `${l.key} (${l.approvals}/${l.required}${l.onBehalfOf ? `, for ${l.onBehalfOf}` : ''})`).join(', ')}` +
            `  submitted by ${i.submittedBy}${i.status === 'escalated' ? '  ESCALATED' : ''}`,
        );
      return;
    }
    case 'review': {
      const r = await call('GET', `/approvals/${cycle()}/review`);
      const total = r.total as { amount: string; currency: string } | undefined;
      console.log(
        `${arg}: ${String(r.status)}, total ${total?.amount ?? '?'} ${total?.currency ?? ''}, submitted by ${String(r.submittedBy)}`,
      );
      console.log(
        r.activeVersionId
          ? '  largest changes against the active budget:'
          : '  no active budget: every line is new',
      );
      for (const l of r.largestChanges as ReviewLine[])
        console.log(
          `    ${l.account} ${l.costCenter.padEnd(7)} ${l.active.padStart(14)} → ${l.proposed.padStart(14)} ${l.currency}  ${l.change.padStart(13)}  ${l.changePercent === null ? 'new' : `${l.changePercent}%`}`,
        );
      const warnings = (r.validationWarnings as unknown[] | null) ?? [];
      console.log(`  validation warnings: ${warnings.length}`);
      const chain = r.approval as
        | {
            current: number;
            stages: {
              key: string;
              status: string;
              approvals: { principal: string; onBehalfOf?: string }[];
            }[][];
          }
        | undefined;
      chain?.stages.forEach((stage, i) =>
        console.log(
          `  stage ${i + 1}${i === chain.current ? ' (open)' : ''}: ` +
            stage
              .map(
                (l) =>
                  `${l.key} ${l.status}${l.approvals.length ? ` by ${l.approvals.map((a) => a.principal + (a.onBehalfOf ? ` for ${a.onBehalfOf}` : '')).join(', ')}` : ''}`,
              )
              .join('; '),
        ),
      );
      return;
    }
    case 'approve':
    case 'reject': {
      if (command === 'reject' && !opts.comment)
        throw new Error('reject needs --comment "…" (the submitter needs to know why)');
      const s = await call('POST', `/budget-cycles/${cycle()}/decision`, {
        decision: command,
        comment: opts.comment,
      });
      console.log(`${arg}: ${String(s.stage)} / ${String(s.status)}`);
      return;
    }
    case 'delegate': {
      if (!opts.to || !opts.from || !opts.until || !opts.reason)
        throw new Error('delegate needs --to, --from, --until and --reason');
      const d = await call('POST', '/approvals/delegations', {
        delegate: opts.to,
        from: opts.from,
        to: opts.until,
        reason: opts.reason,
      });
      console.log(
        `${String(d.delegate)} decides for ${String(d.principal)} from ${String(d.validFrom)} until ${String(d.validTo)}`,
      );
      return;
    }
    default:
      throw new Error('usage: npm run closeloop -- approvals inbox|review|approve|reject|delegate ...');
  }
}
