import { awaitedApprovers } from '../domain/approval-chain';
import { versionKey } from '../domain/identity';
import { type BudgetCycleStatus, type CycleStatus } from './budget-cycle-state';

/**
 * What a budget cycle shows support staff in Temporal UI as its current details (User Metadata tab,
 * Markdown): while it runs, its stage and status; once it ended, its outcome first, in words, and why.
 * Deterministic: the workflow calls it on every move.
 */

/** The statuses a cycle ends in (and publication_failed, once its retry window passed). */
export const ENDED: ReadonlySet<CycleStatus> = new Set<CycleStatus>([
  'invalid',
  'unroutable',
  'rejected',
  'sent_back',
  'expired',
  'completed',
  'superseded',
  'kept',
  'withdrawn',
]);

const HEADLINES: Partial<Record<CycleStatus, string>> = {
  completed: 'published, reconciled and reforecast',
  sent_back: 'not published: fix it in the planning platform and resubmit',
  superseded: 'not the control budget: a newer version is',
  kept: 'approved and kept for reporting: its scenario is not in control, so nothing was published',
  withdrawn: 'approved, but its group version could not land everywhere: nothing stays posted',
};

/** How many validation issues the details list (the `status` query has up to 50, the version all of them). */
const ISSUES_IN_DETAILS = 5;

/**
 * The workflow's current details, which Temporal UI shows (User Metadata tab, Current Details) as Markdown:
 * while the cycle runs, its stage and status; once it ended, its outcome first. Temporal calls every cycle
 * that returns "Completed", invalid or published, so the outcome line says in words which it was, and why.
 */
export function cycleDetails(s: BudgetCycleStatus, ended: boolean): string {
  const key = versionKey(s.ref);
  if (!ended) {
    const lines = [`**${key}**: ${s.stage} / ${s.status}`];
    if (s.waitingFor) lines.push(`Waiting its turn: ${md(s.waitingFor)}`);
    if (s.status === 'publication_failed') {
      lines.push(
        'The publication failed for good and was reversed: fix the cause, then send the `retry-publication` signal.',
        ...publicationLines(s),
      );
    }
    return lines.join('\n\n');
  }
  const outcome = s.status.replace(/_/g, ' ').toUpperCase();
  const lines = [
    `**Outcome: ${outcome}** — ${HEADLINES[s.status] ?? 'not published'}`,
    `**${key}** ended at ${s.stage} / ${s.status}.`,
  ];
  if (s.issueCount) {
    const shown = (s.issues ?? []).slice(0, ISSUES_IN_DETAILS);
    lines.push(
      `${s.issueCount} validation issue${s.issueCount === 1 ? '' : 's'}${s.issueCount > shown.length ? `; the first ${shown.length}` : ''}:\n\n` +
        shown.map((i) => `- line ${i.lineNo} (${i.field}): \`${i.code}\` ${md(i.message)}`).join('\n'),
    );
  }
  if (s.outcomeReason) lines.push(`Reason: ${md(s.outcomeReason)}`);
  if (s.decision) {
    const d = s.decision;
    const verb = { approve: 'Approved', reject: 'Rejected', send_back: 'Sent back' }[d.decision];
    lines.push(
      `${verb} by ${md(d.principal)}${d.onBehalfOf ? ` for ${md(d.onBehalfOf)}` : ''}${d.carriedOver ? ' (in an earlier cycle)' : ''} at ${d.at}` +
        (d.comment ? `: “${md(d.comment)}”` : ''),
    );
  }
  if (s.status === 'expired') {
    const awaited = s.approval ? awaitedApprovers(s.approval) : [];
    lines.push(
      `No decision in time${s.escalatedAt ? ` (escalated at ${s.escalatedAt})` : ''}` +
        (awaited.length ? `; still awaited: ${awaited.map(md).join(', ')}` : ''),
    );
  }
  if (s.status === 'publication_failed') lines.push('No `retry-publication` came within the retry window.');
  lines.push(...publicationLines(s));
  for (const r of s.reconciliation) {
    lines.push(
      `Reconciled ${r.target}: source ${r.sourceTotal} ${r.currency}, target ${r.targetTotal} ${r.currency}; ` +
        `${r.matchedCount} matched, ${r.mismatchedCount} mismatched, ${r.exceptionCount} exceptions`,
    );
  }
  if (s.forecast) {
    lines.push(
      `Reforecast ${md(s.forecast.versionName)}: ${s.forecast.lineCount} lines, ${s.forecast.total.amount} ${s.forecast.total.currency}`,
    );
  }
  if (s.refusedSignals.length) {
    const last = s.refusedSignals[s.refusedSignals.length - 1]!;
    lines.push(
      `${s.refusedSignals.length} refused signal${s.refusedSignals.length === 1 ? '' : 's'}; the last, from ${md(last.principal)}: ${md(last.reason)}`,
    );
  }
  // Temporal UI 2.42 sizes the details' frame about a line short: the last paragraph is only a space to lose.
  lines.push('All of it: the `status` query (Queries tab).', '\u00a0');
  return lines.join('\n\n');
}

/** One line per publication: where it went, under which revision, and its documents or its error. */
function publicationLines(s: BudgetCycleStatus): string[] {
  return s.publications.map((p) => {
    const docs = p.documentNumbers ?? [];
    const shown = docs.slice(0, 10).map(md).join(', ') + (docs.length > 10 ? ` … (${docs.length})` : '');
    const what =
      p.status === 'published'
        ? `Published to ${p.target}`
        : p.status === 'failed'
          ? `Failed to publish to ${p.target}`
          : p.status === 'reversed'
            ? `Published to ${p.target}, then reversed`
            : `Publishing to ${p.target}`;
    return (
      `${what} (revision ${p.revision})` +
      (p.chunkCount !== undefined ? `: ${p.chunkCount} chunks` : '') +
      (docs.length ? `, documents ${shown}` : '') +
      (p.error ? `: ${md(p.error)}` : '')
    );
  });
}

/** Text from people and systems, shown as itself in Markdown. */
export function md(text: string): string {
  return text.replace(/([\\`*_[\]<>#|~])/g, '\\$1');
}
