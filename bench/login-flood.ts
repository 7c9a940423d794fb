import { randomBytes } from 'node:crypto';
import { loginForm } from '../test/support/sign-in.js';

/**
 * The login flood of issue 9: client_credentials measured idle and again while 50 bad sign-ins are in
 * flight, each from a different address for a different unknown account (a botnet spraying
 * passwords, the worst case for hashing: no per-account or per-address limit stops it, so every
 * attempt reaches argon2 or the hashing queue's 503). The server must run with TRUST_PROXY=true so
 * that X-Forwarded-For sets each attempt's address.
 *
 * The claim: with password hashing bounded (HASH_CONCURRENCY, HASH_QUEUE), client_credentials p50
 * under the flood stays within 2x of its idle value.
 */
export interface FloodMeasure<R> {
  (flow: string, op: () => Promise<boolean>): Promise<R>;
}

export interface FloodResult<R> {
  idle: R;
  flooded: R;
  /** Sign-in answers during the flood, by status (401 wrong password, 503 hashing queue full). */
  answers: Record<number, number>;
}

const IN_FLIGHT = 50;

export async function loginFlood<R>(
  url: string,
  client: { id: string; redirect: string },
  measure: FloodMeasure<R>,
  clientCredentials: () => Promise<boolean>,
): Promise<FloodResult<R>> {
  const idle = await measure('client_credentials, idle', clientCredentials);
  const answers: Record<number, number> = {};
  let stop = false;
  let n = 0;
  const address = () => {
    n += 1;
    return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  };
  const forms = await Promise.all(Array.from({ length: IN_FLIGHT }, () => loginForm({ url }, address(), client)));
  const flood = Promise.all(
    forms.map(async (form) => {
      while (!stop) {
        const { status } = await form.attempt(`spray-${randomBytes(6).toString('hex')}@example.test`, 'Summer2024!', address());
        answers[status] = (answers[status] ?? 0) + 1;
      }
    }),
  );
  // Let the flood fill the hashing pool and its queue before measuring.
  await new Promise((r) => setTimeout(r, 1000));
  const flooded = await measure(`client_credentials, ${IN_FLIGHT} bad logins in flight`, clientCredentials);
  stop = true;
  await flood;
  return { idle, flooded, answers };
}
