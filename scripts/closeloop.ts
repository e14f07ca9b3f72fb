import { parseArgs } from 'node:util';
import { MultiBar, Presets } from 'cli-progress';
import { loadConfig } from '../config';
import { approvalsCommand } from './cli/approvals';
import { feedsCommand } from './cli/feeds';
import { localApiUrl } from './lib/simulators';

/**
 * The scheduler's and controller's close commands, over closeloop's API (what they may do is what their API
 * key may do):
 *
 *   npm run closeloop -- close start    2027-03 [--entity ACME-US ...] [--no-follow]
 *   npm run closeloop -- close follow   2027-03            (a bar per entity until the close ends)
 *   npm run closeloop -- close status   2027-03
 *   npm run closeloop -- close sign-off 2027-03 --entity ACME-US [--reject --comment "…"]
 *   npm run closeloop -- close retry    2027-03 --entity ACME-US [--reason "…"]
 *   npm run closeloop -- close rerun    2027-03 --entity ACME-US --reason "…"
 *
 * The API key comes from --key or CLOSELOOP_API_KEY (default dev-scheduler; sign off with a controller's).
 * An approver's commands (inbox, review, approve, reject, send-back, payload, delegate, revoke) are in
 * scripts/cli/approvals.ts:
 *
 *   npm run closeloop -- approvals inbox --key dev-olivia
 *
 * File feeds (list, files, pickup, follow, reprocess) are in scripts/cli/feeds.ts:
 *
 *   npm run closeloop -- feeds pickup legacy-gl
 */
const USAGE =
  'usage: npm run closeloop -- close start|follow|status|sign-off|retry|rerun <YYYY-MM> [--entity <code>] ...\n' +
  '       npm run closeloop -- approvals inbox|review|approve|reject|send-back|payload|delegate|delegations|revoke ...\n' +
  '       npm run closeloop -- feeds list|files|pickup|follow|reprocess [<feed>] [<workflowId>|<fileId>] [--reason "…"]';

interface EntityProgress {
  legalEntity: string;
  fiscalPeriod: string | null;
  state: string;
  workflow?: { execution: string; status?: string; step?: string; steps?: { state: string }[] };
}
interface CloseView {
  status?: string;
  execution: string;
  entities: EntityProgress[];
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      entity: { type: 'string', multiple: true },
      key: { type: 'string' },
      reason: { type: 'string' },
      comment: { type: 'string' },
      reject: { type: 'boolean' },
      'send-back': { type: 'boolean' },
      'no-follow': { type: 'boolean' },
      to: { type: 'string' },
      from: { type: 'string' },
      until: { type: 'string' },
    },
  });
  const [group, command, month] = positionals;
  const config = loadConfig();
  const api = `${localApiUrl(config)}/v1`;
  const keyOf = (fallback: string) => values.key ?? process.env.CLOSELOOP_API_KEY ?? fallback;
  const caller = (base: string, key: string) => async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${res.status} ${String(json.error)}: ${String(json.message)}`);
    return json;
  };
  if (group === 'approvals' && command)
    return approvalsCommand(caller(api, keyOf('dev-approver')), command, month, values);
  if (group === 'feeds' && command) {
    process.exitCode = await feedsCommand(
      caller(api, keyOf('dev-admin')),
      command,
      positionals.slice(2),
      values,
    );
    return;
  }
  if (group !== 'close' || !command || !month) throw new Error(USAGE);
  const call = caller(`${api}/period-closes`, keyOf('dev-scheduler'));
  const entity = () => {
    const e = values.entity?.[0];
    if (!e) throw new Error(`${command} needs --entity <code>`);
    return e;
  };

  switch (command) {
    case 'start': {
      const started = await call('POST', '', { period: month, legalEntities: values.entity });
      console.log(
        `started ${String(started.workflowId)}; Temporal UI: ${String((started.links as { temporalUi: string }).temporalUi)}`,
      );
      if (!values['no-follow']) await follow(call, month);
      return;
    }
    case 'follow':
      return follow(call, month);
    case 'status':
      return printTable((await call('GET', `/${month}`)) as unknown as CloseView);
    case 'sign-off': {
      const decided = await call('POST', `/${month}/entities/${entity()}/sign-off`, {
        decision: values.reject ? 'reject' : 'approve',
        comment: values.comment,
      });
      console.log(`${entity()}: ${String(decided.status)}`);
      return;
    }
    case 'retry':
      await call('POST', `/${month}/entities/${entity()}/retry`, { reason: values.reason });
      console.log(`${entity()}: its failed step runs again`);
      return;
    case 'rerun': {
      if (!values.reason) throw new Error('rerun needs --reason "…" (it is audited)');
      const r = await call('POST', `/${month}/entities/${entity()}/rerun`, { reason: values.reason });
      console.log(`${entity()}: re-run ${String(r.correlationId)}`);
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

const STEPS = 7;
const doneSteps = (e: EntityProgress) =>
  e.workflow?.steps?.filter((s) => s.state === 'done' || s.state === 'skipped').length ?? 0;
const label = (e: EntityProgress) =>
  e.workflow?.status ? `${e.workflow.status}${e.workflow.step ? ` (${e.workflow.step})` : ''}` : e.state;

/** A bar per entity, from each entity's own status, until the close has ended. */
async function follow(call: (m: string, p: string) => Promise<Record<string, unknown>>, month: string) {
  const bars = new MultiBar(
    { format: ' {entity} |{bar}| {value}/{total} steps  {status}', hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  const byEntity = new Map<string, ReturnType<MultiBar['create']>>();
  for (;;) {
    const view = (await call('GET', `/${month}`)) as unknown as CloseView;
    for (const e of view.entities) {
      const payload = { entity: `${e.legalEntity} ${e.fiscalPeriod ?? ''}`.padEnd(18), status: label(e) };
      const bar = byEntity.get(e.legalEntity);
      if (bar) bar.update(doneSteps(e), payload);
      else byEntity.set(e.legalEntity, bars.create(STEPS, doneSteps(e), payload));
    }
    if (view.status === 'completed' || view.execution !== 'RUNNING') {
      bars.stop();
      printTable(view);
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function printTable(view: CloseView) {
  console.log(`close: ${view.execution} ${view.status ?? ''}`);
  for (const e of view.entities)
    console.log(`  ${e.legalEntity.padEnd(10)} ${(e.fiscalPeriod ?? '-').padEnd(8)} ${label(e)}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
