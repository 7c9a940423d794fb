import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { type BrowserHarness, skipWithoutChromium, startHarness } from './browser.js';
import { eventually } from './eventually.js';
import { ALL_MANAGEMENT_SCOPES, adminClientSeed, managementApi, managementToken } from './management.js';

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

export interface MailHarness {
  h: BrowserHarness;
  mail: MailCatcher;
  /** The Management API as the seeded automation client, holding every permission. */
  admin: ReturnType<typeof managementApi>;
}

/**
 * Registers before() and after() for a browser harness (support/browser.ts) whose server sends its
 * mail to a MailCatcher, From accounts@example.test, with `people` extra users and the automation
 * client; `bind` hands them to the test file.
 */
export function useMailHarness(people: number, bind: (m: MailHarness) => void): void {
  let mail: MailCatcher | undefined;
  let h: BrowserHarness | undefined;
  before(async function () {
    skipWithoutChromium(this);
    mail = await startMailCatcher();
    h = await startHarness({
      people,
      env: { SMTP_URL: mail.url, SMTP_FROM: 'Gatehouse <accounts@example.test>' },
      seed: (seed) => seed.clients.push(adminClientSeed() as never),
    });
    bind({ h, mail, admin: managementApi(h.server, await managementToken(h.server, ALL_MANAGEMENT_SCOPES)) });
  });
  after(async () => {
    await h?.close();
    await mail?.close();
  });
}
