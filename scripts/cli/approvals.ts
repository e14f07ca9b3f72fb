/**
 * An approver's commands over closeloop's API, as the principal of their API key:
 *
 *   npm run closeloop -- approvals inbox
 *   npm run closeloop -- approvals review  <cycleId>
 *   npm run closeloop -- approvals approve <cycleId> [--comment "…"]
 *   npm run closeloop -- approvals reject  <cycleId> --comment "…"
 *   npm run closeloop -- approvals send-back <cycleId> --comment "…"
 *   npm run closeloop -- approvals payload <cycleId> [--reject|--send-back] [--comment "…"]
 *   npm run closeloop -- approvals delegate --to <principal> --from <YYYY-MM-DD> --until <YYYY-MM-DD> --reason "…"
 *   npm run closeloop -- approvals delegations
 *   npm run closeloop -- approvals revoke <delegationId>
 *
 * `payload` prints a signed `decision` signal to paste into Temporal UI (or the `temporal workflow signal`
 * command that sends it): a signal without closeloop's token for its sender is refused.
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
  opts: {
    comment?: string;
    to?: string;
    from?: string;
    until?: string;
    reason?: string;
    reject?: boolean;
    'send-back'?: boolean;
  },
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
          `    ${Object.values(l.dimensions).join(' ').padEnd(24)} ${l.active.padStart(14)} → ${l.proposed.padStart(14)} ${l.currency}  ${l.change.padStart(13)}  ${l.changePercent === null ? 'new' : `${l.changePercent}%`}`,
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
    case 'reject':
    case 'send-back': {
      if (command !== 'approve' && !opts.comment)
        throw new Error(`${command} needs --comment "…" (the submitter needs to know why)`);
      const s = await call('POST', `/budget-cycles/${cycle()}/decision`, {
        decision: command === 'send-back' ? 'send_back' : command,
        comment: opts.comment,
      });
      console.log(`${arg}: ${String(s.stage)} / ${String(s.status)}`);
      return;
    }
    case 'payload': {
      const decision = opts.reject ? 'reject' : opts['send-back'] ? 'send_back' : 'approve';
      const p = await call('POST', `/approvals/${cycle()}/signal-payload`, {
        decision,
        comment: opts.comment,
      });
      console.log(
        `Signal "decision" for ${String(p.workflowId)}, stage ${String(p.stage)}; valid until ${String(p.expiresAt)}.`,
      );
      console.log(`\nPaste into Temporal UI (Send a Signal → decision):\n${JSON.stringify(p.payload)}`);
      console.log(`\nOr run:\n${String(p.command)}`);
      return;
    }
    case 'delegations': {
      const { delegations } = (await call('GET', '/approvals/delegations')) as {
        delegations: {
          id: string;
          principal: string;
          delegate: string;
          validFrom: string;
          validTo: string;
        }[];
      };
      for (const d of delegations)
        console.log(`  ${d.id}  ${d.delegate} for ${d.principal}  ${d.validFrom} → ${d.validTo}`);
      if (!delegations.length) console.log('no delegations in force');
      return;
    }
    case 'revoke': {
      if (!arg) throw new Error('approvals revoke needs a delegation ID (see: approvals delegations)');
      const d = await call('DELETE', `/approvals/delegations/${encodeURIComponent(arg)}`);
      console.log(`revoked: ${String(d.delegate)} no longer decides for ${String(d.principal)}`);
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
      throw new Error(
        'usage: npm run closeloop -- approvals inbox|review|approve|reject|send-back|payload|delegate|delegations|revoke ...',
      );
  }
}
