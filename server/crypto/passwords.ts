import { Worker } from 'node:worker_threads';
import pLimit, { type LimitFunction } from 'p-limit';
import type { HashJob } from './hash-worker.js';

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
  /** Sign-ins refused so in this process since start (read by the metrics). */
  static refusals = 0;
  constructor() {
    super('temporarily_unavailable');
    HashingBusyError.refusals++;
  }
}

/**
 * Each argon2 hash takes a core for tens of milliseconds. A fixed number run at once per process
 * (HASH_CONCURRENCY), each on its own worker thread at the lowest CPU priority (hash-worker.ts), a
 * short queue waits (HASH_QUEUE), and sign-ins past that are refused at once instead of piling up
 * behind each other and in front of everything else on the machine.
 */
let pool: LimitFunction = pLimit(1);
let queue = 64;
const idle: Worker[] = [];

export function configureHashing(options: { concurrency: number; queue: number }): void {
  pool = pLimit(options.concurrency);
  queue = options.queue;
}

// The worker's source sits beside this file: .ts when run from source (tsx), .js from dist/.
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './hash-worker.ts' : './hash-worker.js', import.meta.url);

/** Runs one job on an idle worker thread; the pool's bound means there is never more than one job per worker. */
function onWorker<T>(job: HashJob): Promise<T> {
  const worker = idle.pop() ?? new Worker(WORKER);
  // A worker keeps the process alive while it has a job (a CLI awaiting a hash), never while idle.
  worker.ref();
  return new Promise<T>((resolve, reject) => {
    const done = (ok: boolean) => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.unref();
      if (ok) idle.push(worker);
    };
    const onMessage = (m: { ok: true; result: T } | { ok: false; message: string }) => {
      done(true);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.message));
    };
    const onError = (err: Error) => {
      done(false); // a broken worker is dropped; the next job starts a new one
      reject(err);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage(job);
  });
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
  return pool(() => onWorker<string>({ op: 'hash', password, options: OPTIONS }));
}

const verifyHash = (phc: string, password: string) => onWorker<boolean>({ op: 'verify', phc, password });

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
  dummy ??= hashPassword('gatehouse-timing-equaliser');
  const phc = await dummy;
  await shed(() => verifyHash(phc, password));
  return false;
}
