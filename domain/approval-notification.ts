import { type Money } from './money';

/**
 * What approvers, escalation contacts and submitters are told while a version waits in its approval chain,
 * and the words they read (the same text by mail and in chat).
 */

export const NOTIFICATION_KINDS = [
  /** A stage opened: its approvers are asked to decide. */
  'approval_requested',
  /** Still waiting: the cadence repeats until a decision, escalation or expiry. */
  'reminder',
  /** A delegation made while the stage waits: the delegates now awaited are asked. */
  'delegated',
  /** The approval window passed: the approvers and the escalation contacts are told. */
  'escalated',
  /** The escalation window passed too: the cycle ended without a decision. */
  'expired',
  /** To the submitter: the version was rejected, or sent back for changes. */
  'rejected',
  'sent_back',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface ApprovalNotice {
  kind: NotificationKind;
  cycleId: string;
  legalEntity: string;
  /** The version's key, e.g. ACME-US:FY2027:BUDGET:v3 (and "revision 2" on a resubmission). */
  version: string;
  total?: Money;
  submittedBy: string;
  /** The open stage (1-based) and how many the route has. */
  stage: { number: number; of: number };
  /** The names of the levels still waiting (or, for a decision, where it was taken). */
  levels: string[];
  /** Who receives it. */
  to: string[];
  /** How many reminders came before this one (reminders only). */
  reminder?: number;
  /** Who decided and why (rejected, sent back). */
  decidedBy?: string;
  comment?: string;
  /** Where the approver reviews the version. */
  reviewUrl: string;
}

/** The business identity of a notice: one per cycle, kind, stage and reminder number (per delegate, for delegations). */
export function noticeKey(n: Pick<ApprovalNotice, 'cycleId' | 'kind' | 'stage' | 'reminder' | 'to'>): string {
  const who = n.kind === 'delegated' ? `:${[...n.to].sort().join(',')}` : '';
  return `${n.cycleId}:${n.kind}:s${n.stage.number}${n.reminder ? `:r${n.reminder}` : ''}${who}`;
}

export function composeNotice(n: ApprovalNotice): { subject: string; text: string } {
  const what = `${n.version}${n.total ? ` (${n.total.currency} ${n.total.amount})` : ''}`;
  const stage = `stage ${n.stage.number} of ${n.stage.of}${n.levels.length ? `: ${n.levels.join(', ')}` : ''}`;
  const review = [
    `Review: ${n.reviewUrl}`,
    `From a terminal: npm run closeloop -- approvals review ${n.cycleId}`,
  ];
  switch (n.kind) {
    case 'approval_requested':
      return {
        subject: `Approval requested: ${what}`,
        text: [`${n.submittedBy} submitted ${what}. It awaits your approval at ${stage}.`, ...review].join(
          '\n\n',
        ),
      };
    case 'delegated':
      return {
        subject: `Approval delegated to you: ${what}`,
        text: [
          `An approver delegated their approvals to you: ${what} awaits a decision at ${stage}, in their place.`,
          ...review,
        ].join('\n\n'),
      };
    case 'reminder':
      return {
        subject: `Reminder: ${what} awaits your approval`,
        text: [`${what} still awaits your approval at ${stage}.`, ...review].join('\n\n'),
      };
    case 'escalated':
      return {
        subject: `Escalated: ${what} is waiting too long for approval`,
        text: [
          `${what} has waited longer than its approval window at ${stage}. ` +
            `It expires unless the approvers decide before the escalation window ends.`,
          ...review,
        ].join('\n\n'),
      };
    case 'expired':
      return {
        subject: `Expired: ${what} was not approved in time`,
        text:
          `${what} waited at ${stage} past its approval and escalation windows; the cycle ended as expired. ` +
          `The planner may submit it again.`,
      };
    case 'rejected':
    case 'sent_back':
      return {
        subject: `${n.kind === 'rejected' ? 'Rejected' : 'Sent back for changes'}: ${what}`,
        text: [
          `${n.decidedBy} ${n.kind === 'rejected' ? 'rejected' : 'sent back'} ${what} at ${stage}: ` +
            `"${n.comment ?? ''}".`,
          `Fix it in the planning platform and submit it again as the next revision ` +
            `(POST /v1/budget-cycles with "revision"); what was decided stays in the audit trail.`,
        ].join('\n\n'),
      };
  }
}
