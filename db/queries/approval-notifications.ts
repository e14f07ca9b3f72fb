import { sql } from 'drizzle-orm';
import { type NotificationKind } from '../../domain/approval-notification';
import { auditStream } from '../../domain/identity';
import { type DbOrTx, type Tx } from '../client';
import { appendAudit } from './audit';

export interface NotificationToSend {
  key: string;
  legalEntity: string;
  cycleId: string;
  kind: NotificationKind;
  recipients: string[];
  subject: string;
}

/**
 * Claims a notification for sending: the channels it already went out on when it is not finished yet (new,
 * or an earlier attempt failed part way), undefined when it went out already. The row's primary key decides.
 */
export async function claimNotification(db: DbOrTx, n: NotificationToSend): Promise<string[] | undefined> {
  const [row] = (await db.execute(sql`
    insert into approval_notifications (key, legal_entity, cycle_id, kind, recipients, subject, channels)
    values (${n.key}, ${n.legalEntity}, ${n.cycleId}, ${n.kind}, ${JSON.stringify(n.recipients)}::jsonb,
            ${n.subject}, '[]'::jsonb)
    on conflict (key) do update set key = excluded.key
      where approval_notifications.sent_at is null
    returning channels`)) as unknown as { channels: string[] | null }[];
  return row ? (row.channels ?? []) : undefined;
}

/** The notification went out on one more channel (a retry skips it). */
export async function recordNotificationChannel(db: DbOrTx, key: string, channel: string): Promise<void> {
  await db.execute(sql`
    update approval_notifications
       set channels = coalesce(channels, '[]'::jsonb) || ${JSON.stringify([channel])}::jsonb
     where key = ${key} and sent_at is null and not coalesce(channels, '[]'::jsonb) ? ${channel}`);
}

/** Every channel is done: the notification is marked sent (once) with its audit entry. */
export async function markNotificationSent(
  tx: Tx,
  n: NotificationToSend & { versionId: string; correlationId: string },
): Promise<boolean> {
  const [row] = (await tx.execute(sql`
    update approval_notifications set sent_at = now()
     where key = ${n.key} and sent_at is null
    returning channels`)) as unknown as { channels: string[] | null }[];
  if (!row) return false;
  await appendAudit(tx, {
    stream: auditStream.budget(n.legalEntity),
    actor: 'closeloop',
    action: `approval.notified.${n.kind}`,
    entityType: 'budget_version',
    entityId: n.versionId,
    correlationId: n.correlationId,
    eventKey: `notified:${n.key}`,
    details: { cycleId: n.cycleId, to: n.recipients, subject: n.subject, channels: row.channels ?? [] },
  });
  return true;
}

/** A cycle's notifications, oldest first (support's view of who was told what, and when). */
export async function notificationsOf(db: DbOrTx, cycleId: string) {
  return (await db.execute(sql`
    select key, kind, recipients, subject, channels, created_at::text as "createdAt", sent_at::text as "sentAt"
      from approval_notifications where cycle_id = ${cycleId} order by created_at, key`)) as unknown as {
    key: string;
    kind: NotificationKind;
    recipients: string[];
    subject: string;
    channels: string[] | null;
    createdAt: string;
    sentAt: string | null;
  }[];
}
