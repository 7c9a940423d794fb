import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { hashSync, verifySync, type Options } from '@node-rs/argon2';

/**
 * One password-hashing thread (server/crypto/passwords.ts). It runs at the lowest CPU priority: on
 * Linux a thread's niceness is its own, so this lowers only this thread, never the event loop. Token
 * issuance then gets the CPU first and password checks take what is left, so a flood of sign-ins
 * cannot slow it down however many cores it would like.
 */
try {
  setPriority(19);
} catch {
  // Not allowed here (some containers): hashing still works, at normal priority.
}

export type HashJob = { op: 'hash'; password: string; options: Options } | { op: 'verify'; phc: string; password: string };

parentPort!.on('message', (job: HashJob) => {
  try {
    const result = job.op === 'hash' ? hashSync(job.password, job.options) : verifySync(job.phc, job.password);
    parentPort!.postMessage({ ok: true, result });
  } catch (err) {
    // A malformed stored hash verifies as false; anything else is the caller's to report.
    parentPort!.postMessage(job.op === 'verify' ? { ok: true, result: false } : { ok: false, message: (err as Error).message });
  }
});
