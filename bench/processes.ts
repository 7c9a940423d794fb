/** The benchmarks' child processes: Gatehouse nodes, bare oidc-provider, resource servers. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../server/paths.js';

export const NODE = join(projectRoot, 'node_modules', '.bin', 'node');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const p = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return p;
}

export interface Proc {
  name: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

export const running: Proc[] = [];

export function start(name: string, args: string[], env: Record<string, string>, port: number): Proc {
  let stderr = '';
  const child = spawn(NODE, args, {
    cwd: projectRoot,
    // BENCH_NODE_OPTIONS reaches the servers only (--perf-basic-prof for perf, say), not the load generator.
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? os.tmpdir(), ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}), ...env },
    // Log lines are written (that cost is part of what is measured) and discarded.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const proc: Proc = { name, port, child, stderr: () => stderr, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  running.push(proc);
  return proc;
}

export async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null) return;
  proc.child.kill('SIGTERM');
  const code = await Promise.race([proc.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
  if (code === 'timeout') proc.child.kill('SIGKILL');
  running.splice(running.indexOf(proc), 1);
}

export async function ready(proc: Proc, path: string): Promise<void> {
  const until = Date.now() + 180_000;
  while (Date.now() < until) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}):\n${proc.stderr()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${proc.port}${path}`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${proc.name} was not ready within 180 s:\n${proc.stderr()}`);
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK); 100 on every Linux we run on. */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU time (ms) in a /proc stat line, a process's or a thread's. */
function statCpuMs(stat: string): number {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis):
  // utime and stime are the 14th and 15th fields of the line, the 12th and 13th after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/PID/stat; undefined where there
 * is no /proc. Per request, it measures what a server spends on its own work: unlike throughput, it
 * hardly moves when other processes compete for the cores.
 */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** What a thread of a Node process does, told by the name /proc gives it (comm). */
export type ThreadKind = 'main' | 'libuv' | 'v8' | 'other';
export const THREAD_KINDS: readonly ThreadKind[] = ['main', 'libuv', 'v8', 'other'];

/** The kind of a thread other than the main one (whose id is the process's). */
function kindOf(comm: string): ThreadKind {
  // libuv's pool: crypto jobs (RS256 signing), password hashing, file system and DNS work.
  if (comm.startsWith('libuv-worker')) return 'libuv';
  // V8's platform workers: the garbage collector's parallel and concurrent work, and compiling.
  if (comm.startsWith('V8Worker') || comm.startsWith('DefaultWorker')) return 'v8';
  return 'other';
}

/**
 * CPU time (user + system, ms) so far of a process's threads, summed by what they do; undefined where
 * there is no /proc. A request's CPU split this way says whether the main thread (where Gatehouse's
 * code runs) or the work both sides share (signing on libuv's pool) makes the difference.
 */
export function threadCpuMs(pid: number | undefined): Record<ThreadKind, number> | undefined {
  if (pid === undefined) return undefined;
  const sums: Record<ThreadKind, number> = { main: 0, libuv: 0, v8: 0, other: 0 };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const kind = tid === String(pid) ? 'main' : kindOf(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
        sums[kind] += statCpuMs(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return sums;
}

/** The process names of the stores Gatehouse uses, when they run on this machine. */
const STORES = new Set(['postgres', 'redis-server']);

/**
 * CPU time (ms) so far of each Postgres and Redis process on this machine, by pid; undefined if none
 * runs here (stores on other hosts) or there is no /proc. On a machine that also runs the stores,
 * their work for Gatehouse's requests takes cores the server and the load generator would otherwise
 * have: the bench reports it per request beside the server's own (storesCpuSince).
 */
export function storesCpu(): Map<number, number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const byPid = new Map<number, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!STORES.has(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) continue;
    } catch {
      continue; // the process ended meanwhile
    }
    const ms = cpuMs(Number(entry));
    if (ms !== undefined) byPid.set(Number(entry), ms);
  }
  return byPid.size ? byPid : undefined;
}

/**
 * The stores' CPU time (ms) since `before`: each process's own growth, a process started since
 * counting whole. One that ended meanwhile (a pooled connection closed when idle) takes its time with
 * it, so the figure can be a little low, never negative.
 */
export function storesCpuSince(before: Map<number, number>): number | undefined {
  const after = storesCpu();
  if (!after) return undefined;
  let total = 0;
  for (const [pid, ms] of after) total += ms - Math.min(ms, before.get(pid) ?? 0);
  return total;
}
