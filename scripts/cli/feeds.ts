import { Presets, SingleBar } from 'cli-progress';

/**
 * File feeds over closeloop's API (an integration admin's key, or a scheduler's for pickups):
 *
 *   npm run closeloop -- feeds list
 *   npm run closeloop -- feeds files     <feed>                   (the processed-file ledger)
 *   npm run closeloop -- feeds pickup    <feed> [--no-follow]     (a pickup now, followed with a progress bar)
 *   npm run closeloop -- feeds follow    <feed> <workflowId>
 *   npm run closeloop -- feeds reprocess <feed> <fileId> --reason "…"
 *
 * Exit code 1 when a followed pickup failed or refused a file, 0 otherwise.
 */

type Call = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

interface Taken {
  name: string;
  status: string;
  reason?: string;
  movedTo?: string;
  report?: string;
  counts?: { read: number; inserted: number; duplicates: number; deadLetters: number };
}
interface Pickup {
  status: string;
  taken?: Taken[];
  waiting?: { name: string; reason: string }[];
  current?: string;
  inHand?: { phase?: string; read?: number };
  links?: { temporalUi?: string };
}

const path = (feed: string) => `/file-feeds/${encodeURIComponent(feed)}`;

export async function feedsCommand(
  call: Call,
  command: string,
  args: (string | undefined)[],
  opts: { reason?: string; 'no-follow'?: boolean },
): Promise<number> {
  const [feed, id] = args;
  const need = (what: string, value: string | undefined) => {
    if (!value) throw new Error(`feeds ${command} needs ${what}`);
    return value;
  };
  switch (command) {
    case 'list': {
      const { feeds } = (await call('GET', '/file-feeds')) as {
        feeds: {
          code: string;
          legalEntity: string;
          kind: string;
          definition: { transport: object; every?: string };
        }[];
      };
      console.table(
        feeds.map((f) => ({
          feed: f.code,
          entity: f.legalEntity,
          kind: f.kind,
          inbox: JSON.stringify(f.definition.transport),
          every: f.definition.every,
        })),
      );
      return 0;
    }
    case 'files': {
      const { files } = (await call('GET', `${path(need('<feed>', feed))}/files`)) as {
        files: {
          id: string;
          name: string;
          status: string;
          generation: number;
          movedTo: string | null;
          createdAt: string;
          outcome: Record<string, unknown>;
        }[];
      };
      console.table(
        files.map((f) => ({
          id: f.id,
          name: f.name,
          status: f.status,
          generation: f.generation,
          records: f.outcome.details,
          inserted: f.outcome.inserted,
          movedTo: f.movedTo,
          at: f.createdAt,
        })),
      );
      return 0;
    }
    case 'pickup': {
      const started = await call('POST', `${path(need('<feed>', feed))}/pickups`, {});
      console.log(`pickup ${String(started.workflowId)}`);
      return opts['no-follow'] ? 0 : follow(call, feed!, String(started.workflowId));
    }
    case 'follow':
      return follow(call, need('<feed>', feed), need('<workflowId>', id));
    case 'reprocess': {
      if (!opts.reason) throw new Error('feeds reprocess needs --reason "…" (it is audited)');
      const started = await call(
        'POST',
        `${path(need('<feed>', feed))}/files/${need('<fileId>', id)}/reprocess`,
        {
          reason: opts.reason,
        },
      );
      console.log(
        `reprocess of ${(started.file as { name: string }).name}: pickup ${String(started.workflowId)}`,
      );
      return opts['no-follow'] ? 0 : follow(call, feed!, String(started.workflowId));
    }
    default:
      throw new Error(`feeds ${command}: not a command (list, files, pickup, follow, reprocess)`);
  }
}

/** Polls the pickup until it ends: a bar for the file in hand (its phase and lines read), then what it did. */
async function follow(call: Call, feed: string, workflowId: string): Promise<number> {
  const bar = new SingleBar(
    { format: ' {file} {phase} {value} lines read', hideCursor: true, noTTYOutput: !process.stdout.isTTY },
    Presets.shades_classic,
  );
  bar.start(0, 0, { file: '', phase: '' });
  let view: Pickup;
  for (;;) {
    view = (await call(
      'GET',
      `${path(feed)}/pickups/${encodeURIComponent(workflowId)}`,
    )) as unknown as Pickup;
    bar.update(view.inHand?.read ?? 0, { file: view.current ?? '', phase: view.inHand?.phase ?? '' });
    if (view.status !== 'RUNNING') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  bar.stop();
  for (const t of view.taken ?? [])
    console.log(
      `${t.status.padEnd(9)} ${t.name}${t.movedTo ? ` → ${t.movedTo}` : ''}${t.counts ? ` (${t.counts.read} read, ${t.counts.inserted} new, ${t.counts.duplicates} already counted, ${t.counts.deadLetters} dead letters)` : ''}${t.reason ? `: ${t.reason}` : ''}${t.report ? ` [report ${t.report}]` : ''}`,
    );
  for (const w of view.waiting ?? []) console.log(`waiting   ${w.name}: ${w.reason}`);
  console.log(
    `pickup ${view.status.toLowerCase()}${view.links?.temporalUi ? `: ${view.links.temporalUi}` : ''}`,
  );
  return view.status === 'COMPLETED' && !(view.taken ?? []).some((t) => t.status === 'rejected') ? 0 : 1;
}
