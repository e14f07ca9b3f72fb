import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { FailureType } from '../../../domain/failures';
import { httpRequest } from '../http';

/** One notification to deliver; `key` is its business identity (also the mail's Message-ID). */
export interface Notification {
  key: string;
  to: string[];
  subject: string;
  text: string;
  /** Extra fields for chat tools (kind, cycle, review link). */
  data: Record<string, unknown>;
}

export type Channel = 'mail' | 'webhook';

export interface Notifier {
  /**
   * Delivers on one channel: true when it went out, false when the channel is not configured or has no one
   * to reach (no recipient is a mail address).
   */
  send(n: Notification, channel: Channel): Promise<boolean>;
  close(): void;
}

export const CHANNELS: readonly Channel[] = ['mail', 'webhook'];

export interface NotifierConfig {
  /** smtp://host:port (smtps:// for TLS); unset: no mail. */
  smtpUrl?: string;
  from: string;
  /** Incoming webhook of a chat tool; unset: no chat message. */
  webhookUrl?: string;
  timeoutMs?: number;
}

/** Principals are mail addresses where they look like one; others cannot be mailed (chat still gets them). */
const mailable = (p: string) => /^[^\s@]+@[^\s@]+$/.test(p);

/**
 * Mail over SMTP (nodemailer) and a JSON POST to a chat tool's incoming webhook (`text` is what Slack and
 * Teams workflows show; the other fields are for tools that route on them), one channel at a time: the
 * outbox records each, so a retry after the webhook failed does not mail again. A refused address or request is
 * a non-retryable failure; a connection problem, a 4xx SMTP reply or a 5xx/429 webhook answer is retried.
 */
export function createNotifier(cfg: NotifierConfig): Notifier {
  const smtp = cfg.smtpUrl ? new URL(cfg.smtpUrl) : undefined;
  const transport = smtp
    ? nodemailer.createTransport({
        host: smtp.hostname,
        port: Number(smtp.port || (smtp.protocol === 'smtps:' ? 465 : 25)),
        secure: smtp.protocol === 'smtps:',
        auth: smtp.username
          ? { user: decodeURIComponent(smtp.username), pass: decodeURIComponent(smtp.password) }
          : undefined,
        connectionTimeout: cfg.timeoutMs ?? 10_000,
        greetingTimeout: cfg.timeoutMs ?? 10_000,
        socketTimeout: cfg.timeoutMs ?? 10_000,
      })
    : undefined;
  const domain = /@([^>\s]+)>?$/.exec(cfg.from)?.[1] ?? 'closeloop.local';
  return {
    async send(n, channel) {
      if (channel === 'mail') {
        const to = n.to.filter(mailable);
        if (!transport || !to.length) return false;
        try {
          await transport.sendMail({
            from: cfg.from,
            to,
            subject: n.subject,
            text: n.text,
            // The same notice sent again after a retry carries the same Message-ID, so a mail system dedups it.
            messageId: `<${encodeURIComponent(n.key)}@${domain}>`,
            headers: { 'X-Closeloop-Notification': n.key },
          });
        } catch (err) {
          throw smtpFailure(err as Error & { responseCode?: number });
        }
        return true;
      }
      if (!cfg.webhookUrl) return false;
      await httpRequest({
        system: 'webhook',
        method: 'POST',
        url: cfg.webhookUrl,
        body: { text: `*${n.subject}*\n${n.text}`, to: n.to, ...n.data },
        timeoutMs: cfg.timeoutMs ?? 10_000,
      });
      return true;
    },
    close() {
      transport?.close();
    },
  };
}

/** SMTP 5xx replies are permanent (RFC 5321 §4.2.1); 4xx and connection errors are worth retrying. */
function smtpFailure(err: Error & { responseCode?: number }): ApplicationFailure {
  const permanent = err.responseCode !== undefined && err.responseCode >= 500;
  return ApplicationFailure.create({
    type: permanent ? FailureType.ConnectorRejected : FailureType.ConnectorUnavailable,
    message: `SMTP: ${err.message}`,
    nonRetryable: permanent,
    cause: err,
  });
}
