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
 * Claims a notification for sending: true when it has not been sent yet (new, or an earlier attempt failed
 * before it was marked sent), false when it went out already. The row's primary key decides.
 */
export async function claimNotification(db: DbOrTx, n: NotificationToSend): Promise<boolean> {
  const rows = await db.execute(sql`
    insert into approval_notifications (key, legal_entity, cycle_id, kind, recipients, subject)
    values (${n.key}, ${n.legalEntity}, ${n.cycleId}, ${n.kind}, ${JSON.stringify(n.recipients)}::jsonb,
            ${n.subject})
    on conflict (key) do update set key = excluded.key
      where approval_notifications.sent_at is null
    returning key`);
  return rows.length > 0;
}

/** The notification went out on these channels: marked sent (once) with its audit entry. */
export async function markNotificationSent(
  tx: Tx,
  n: NotificationToSend & { versionId: string; channels: string[]; correlationId: string },
): Promise<boolean> {
  const rows = await tx.execute(sql`
    update approval_notifications set sent_at = now(), channels = ${JSON.stringify(n.channels)}::jsonb
     where key = ${n.key} and sent_at is null
    returning key`);
  if (!rows.length) return false;
  await appendAudit(tx, {
    stream: auditStream.budget(n.legalEntity),
    actor: 'closeloop',
    action: `approval.notified.${n.kind}`,
    entityType: 'budget_version',
    entityId: n.versionId,
    correlationId: n.correlationId,
    eventKey: `notified:${n.key}`,
    details: { cycleId: n.cycleId, to: n.recipients, subject: n.subject, channels: n.channels },
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
