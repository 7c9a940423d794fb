import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../server/paths.js';

/**
 * The built code (dist/) run as operators run it, in processes of its own. dist/ and the console
 * are built once per run, before the tests (`pretest`, and CI's `npm ci`), never inside a test.
 */

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|sql|html)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * A before() hook: fails at once, saying what to run, when dist/ is missing or older than the
 * sources (a stale build would test old code).
 */
export function requireBuild(): void {
  const marker = join(projectRoot, 'dist', 'server', 'cli', 'main.js');
  const built = existsSync(ENTRY) && existsSync(CLI) && existsSync(marker) ? statSync(marker).mtimeMs : 0;
  const sources = Math.max(...['server', 'adapters', 'views'].map((d) => newestSource(join(projectRoot, d))));
  if (built < sources) {
    throw new Error(`dist/ is ${built ? 'older than the sources' : 'missing'}: run \`npm run build\` first (\`npm test\` does it before the tests)`);
  }
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is. */
  json: any;
}

/** Runs a command to its end with this environment (and nothing else) and stdin. */
export function runProcess(command: string, args: string[], options: { env: Record<string, string | undefined>; input?: string }): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: Object.fromEntries(Object.entries(options.env).filter(([, v]) => v !== undefined)) as Record<string, string>,
      cwd: projectRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* text output */
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The Node binary the `node` package brings (22), not whatever is on the machine. */
export const NODE = join(projectRoot, 'node_modules', '.bin', 'node');
export const ENTRY = join(projectRoot, 'dist', 'server', 'index.js');
export const MIGRATE = join(projectRoot, 'dist', 'server', 'cli', 'migrate.js');
/** What package.json "bin" points at: the `gatehouse` command. */
export const CLI = join(projectRoot, 'dist', 'server', 'cli', 'index.js');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Only what the process needs: the test runner's DATABASE_URL/REDIS_URL must not leak in. */
export const baseEnv = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...extra });

export interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first JSON log line whose msg matches. */
  waitForLog: (msg: RegExp, ms: number) => Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node dist/server/index.js` in a process of its own, embedded in dataDir unless env says otherwise. */
export function runServerProcess(dataDir: string, port: number, env: Record<string, string> = {}): Running {
  const child = spawn(NODE, [ENTRY], {
    cwd: projectRoot,
    env: baseEnv({ PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { msg: RegExp; resolve: (line: Record<string, unknown>) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const line of chunk.split('\n')) {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line);
      } catch {
        continue;
      }
      for (const w of [...waiters]) {
        if (typeof parsed.msg === 'string' && w.msg.test(parsed.msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  // 'close', not 'exit': it comes after stdout and stderr are drained, so the output is complete.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    port,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog: (msg, ms) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${msg} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms);
        void exited.then(({ code }) => reject(new Error(`server exited (${code}) before logging ${msg}; stderr:\n${err}`)));
        waiters.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
      }),
  };
}

