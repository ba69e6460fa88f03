// Sends the outbox's e-mails. A batch is claimed (claimed_at, send_attempts + 1) in one short statement and sent
// with no transaction open; a message is marked sent only after the mail server took it. A crash mid-send leaves
// the claim to expire, so the message is tried again (at most five times, a failure waiting out its claim
// before the next try): at-least-once, as e-mail is.
import type pg from "pg";
import type { Logger } from "../../lib/logger";
import type { EmailRenderer } from "./render-email";

/** What the mailer needs of a mail transport; nodemailer's transporters implement it. */
export interface MailTransport {
  sendMail(message: { from: string; to: string; subject: string; text: string; html: string }): Promise<unknown>;
}

export interface MailerOptions {
  pool: pg.Pool;
  transport: MailTransport;
  from: string;
  /** Renders each message from its template (HTML and plain text); it holds the site's address for links. */
  renderer: EmailRenderer;
  logger: Logger;
  intervalMs?: number;
}

/** Sends tried before a message is given up (the statistics page counts those as failed e-mails). */
export const MAX_ATTEMPTS = 5;
const CLAIM_SECONDS = 120;

export function createMailer(o: MailerOptions) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;

  async function sendBatch(): Promise<number> {
    const { rows } = await o.pool.query<{
      id: number;
      to: string | null;
      subject: string;
      body: string;
      link_url: string | null;
      link_text: string | null;
      data: unknown;
    }>(
      `UPDATE notifications n SET claimed_at = now(), send_attempts = n.send_attempts + 1
         FROM (SELECT id FROM notifications
                WHERE send_email AND sent_at IS NULL AND send_attempts < ${MAX_ATTEMPTS}
                  AND (claimed_at IS NULL OR claimed_at < now() - interval '${CLAIM_SECONDS} seconds')
                ORDER BY id LIMIT 20 FOR UPDATE SKIP LOCKED) c
        WHERE n.id = c.id
        RETURNING n.id, coalesce(n.email, (SELECT email FROM users WHERE id = n.user_id)) AS to, n.subject, n.body,
                  n.link_url, n.link_text, n.data`,
    );
    for (const m of rows) {
      try {
        if (!m.to) throw new Error("no e-mail address");
        const mail = o.renderer.render({
          subject: m.subject,
          body: m.body,
          linkUrl: m.link_url,
          linkText: m.link_text,
          data: m.data,
        });
        await o.transport.sendMail({ from: o.from, to: m.to, subject: mail.subject, text: mail.text, html: mail.html });
        await o.pool.query(
          "UPDATE notifications SET sent_at = now(), claimed_at = NULL, last_error = NULL WHERE id = $1",
          [m.id],
        );
      } catch (err) {
        o.logger.warn({ err, notificationId: m.id }, "e-mail not sent");
        // The claim stays: the message is tried again once it expires, which spaces out the retries.
        await o.pool.query("UPDATE notifications SET claimed_at = now(), last_error = $2 WHERE id = $1", [
          m.id,
          (err as Error).message.slice(0, 500),
        ]);
      }
    }
    return rows.length;
  }

  /** Sends everything waiting now; answers how many messages were attempted. */
  async function sendPending(): Promise<number> {
    if (running) return running;
    running = (async () => {
      let total = 0;
      for (let n = await sendBatch(); n > 0; n = await sendBatch()) total += n;
      return total;
    })().finally(() => {
      running = null;
    });
    return running;
  }

  return {
    sendPending,
    start() {
      const tick = () => {
        sendPending()
          .catch((err) => o.logger.error({ err }, "mailer run failed"))
          .finally(() => {
            if (timer) timer = setTimeout(tick, o.intervalMs ?? 5_000);
          });
      };
      timer = setTimeout(tick, 0);
      timer.unref();
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
