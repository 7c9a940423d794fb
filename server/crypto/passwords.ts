import { hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';

/**
 * argon2id with the OWASP-recommended floor (19 MiB, 2 passes, 1 lane). Parameters are stored in
 * each PHC string, so raising them later only affects new hashes.
 */
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * Too many sign-ins are waiting for a password hash: 503 with Retry-After (RFC 9110 §15.6.4), so
 * that a flood of guesses cannot take every core from token issuance. The fields are the ones our
 * error boundary reads.
 */
export class HashingBusyError extends Error {
  override name = 'HashingBusyError';
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'too many sign-ins are being checked right now; retry in a few seconds';
  constructor() {
    super('temporarily_unavailable');
  }
}

/**
 * Each argon2 hash takes a core for tens of milliseconds. A fixed number run at once per process
 * (HASH_CONCURRENCY), a short queue waits (HASH_QUEUE), and sign-ins past that are refused at once
 * instead of piling up behind each other and in front of everything else on the machine.
 */
let pool: LimitFunction = pLimit(1);
let queue = 64;

export function configureHashing(options: { concurrency: number; queue: number }): void {
  pool = pLimit(options.concurrency);
  queue = options.queue;
}

/** Whether a sign-in would be refused now: every hash slot busy and the queue full. */
export function hashingFull(): boolean {
  return pool.activeCount >= pool.concurrency && pool.pendingCount >= queue;
}

/** A sign-in's hash: refused with HashingBusyError when the queue is full. */
function shed<T>(fn: () => Promise<T>): Promise<T> {
  if (hashingFull()) return Promise.reject(new HashingBusyError());
  return pool(fn);
}

/** Hashing for administrators, the CLI and the seed waits its turn rather than being refused. */
export function hashPassword(password: string): Promise<string> {
  return pool(() => hash(password, OPTIONS));
}

async function verifyHash(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/** Whether the password matches; administrators and the seed wait their turn. */
export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return pool(() => verifyHash(phc, password));
}

/** A sign-in's verification: bounded, and refused with HashingBusyError past the queue. */
export function verifySignIn(phc: string, password: string): Promise<boolean> {
  return shed(() => verifyHash(phc, password));
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for logins with an unknown email, so response time
 * does not reveal whether an account exists. It goes through the same bound as a real sign-in.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hash('gatehouse-timing-equaliser', OPTIONS);
  const phc = await dummy;
  await shed(() => verifyHash(phc, password));
  return false;
}
