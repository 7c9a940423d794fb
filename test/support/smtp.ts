import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { eventually } from './eventually.js';

/** One message as it arrived, parsed (mailparser), with the links in its text. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  links: string[];
}

/**
 * A real SMTP server in the test process (smtp-server): Gatehouse sends to it over TCP with
 * nodemailer exactly as it would to a provider's relay, and every message is parsed as a mail client
 * would. `url` is the SMTP_URL to give the server.
 */
export interface MailCatcher {
  url: string;
  messages: ReceivedMail[];
  /** The next message to this address (the first not yet taken), waiting for it to arrive. */
  next(to: string): Promise<ReceivedMail>;
  /** Messages to this address not yet taken. */
  pending(to: string): ReceivedMail[];
  close(): Promise<void>;
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const messages: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const text = mail.text ?? '';
          messages.push({
            from: mail.from?.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            subject: mail.subject ?? '',
            text,
            links: [...text.matchAll(/https?:\/\/\S+/g)].map((m) => m[0]),
          });
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const pending = (to: string) => messages.filter((m) => !taken.has(m) && m.to.includes(to.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    pending,
    async next(to) {
      let found: ReceivedMail | undefined;
      await eventually(`a message to ${to}`, () => Boolean((found = pending(to)[0])));
      taken.add(found!);
      return found!;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
