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

export interface Notifier {
  /** Delivers on every configured channel; returns the channels it went out on. */
  send(n: Notification): Promise<string[]>;
  close(): void;
}

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
 * Teams workflows show; the other fields are for tools that route on them). A refused address or request is
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
        socketTimeout: cfg.timeoutMs ?? 10_000,
      })
    : undefined;
  const domain = /@([^>\s]+)>?$/.exec(cfg.from)?.[1] ?? 'closeloop.local';
  return {
    async send(n) {
      const channels: string[] = [];
      const to = n.to.filter(mailable);
      if (transport && to.length) {
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
        channels.push('mail');
      }
      if (cfg.webhookUrl) {
        await httpRequest({
          system: 'webhook',
          method: 'POST',
          url: cfg.webhookUrl,
          body: { text: `*${n.subject}*\n${n.text}`, to: n.to, ...n.data },
          timeoutMs: cfg.timeoutMs ?? 10_000,
        });
        channels.push('webhook');
      }
      return channels;
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
