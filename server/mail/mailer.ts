import nodemailer from 'nodemailer';
import type { MailConfig } from '../config.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Sends one message; rejects when the SMTP server refuses it or cannot be reached. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer (SMTP_URL, SMTP_FROM). One pooled transport per node: a burst of reset
 * requests reuses a few connections instead of opening one each. Plain text only: the messages
 * hold one link, and text cannot carry a tracking pixel or a look-alike button.
 */
export function smtpMailer(config: MailConfig): Mailer {
  const url = new URL(config.url);
  url.searchParams.set('pool', 'true');
  const transport = nodemailer.createTransport(url.toString());
  return {
    async send(message) {
      await transport.sendMail({ from: config.from, to: message.to, subject: message.subject, text: message.text });
    },
    close() {
      transport.close();
    },
  };
}
