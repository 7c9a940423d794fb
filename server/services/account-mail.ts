import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Mailer, MailMessage } from '../mail/mailer.js';
import type { Protection } from './protection/index.js';
import { limitAddress } from './protection/address.js';

/** What sending account links needs: the database, the public URL, SMTP (when configured), limits. */
export interface AccountMailDeps {
  db: Database;
  issuer: string;
  /** Undefined without SMTP_URL: nothing is sent, and administrators hand out reset links instead. */
  mailer: Mailer | undefined;
  logger: Logger;
  protection: Protection;
}

/**
 * Counts one request for a link to `recipient` from `ip`, and says how long either is refused for
 * (0: go ahead). Counted whether or not the recipient has an account, so the answer tells nothing.
 */
export async function countMailRequest(protection: Protection, recipient: string, ip: string): Promise<number> {
  const byRecipient = `to:${recipient.trim().toLowerCase()}`;
  const byAddress = limitAddress(ip);
  const wait = Math.max(await protection.mailPerRecipient.retryAfter(byRecipient), await protection.mailPerAddress.retryAfter(byAddress));
  if (wait > 0) return wait;
  await Promise.all([protection.mailPerRecipient.fail(byRecipient), protection.mailPerAddress.fail(byAddress)]);
  return 0;
}

/**
 * Runs `work` after the response, so that what it finds (an account or none) and how long SMTP takes
 * cannot be told from the answer's timing; failures are logged, never shown.
 */
export function inBackground(logger: Logger, what: string, work: () => Promise<void>): void {
  setImmediate(() => {
    work().catch((err: Error) => logger.warn({ err: err.message, event: `${what}.failed` }, `${what} failed`));
  });
}

export async function send(deps: AccountMailDeps, message: MailMessage): Promise<void> {
  if (!deps.mailer) return;
  await deps.mailer.send(message);
}
