#!/usr/bin/env node
/**
 * The `gatehouse` command (package.json "bin"). This file only picks a Node.js that can run the
 * server code, so it imports nothing but node: builtins (its static imports load before any check):
 * `#!/usr/bin/env node` finds whatever node is first on PATH, which may be older than the server
 * needs. Then it re-runs itself with the Node.js the package ships (the `node` dependency, in the
 * package's own node_modules) and passes arguments, standard streams, signals and the exit status
 * through.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIN_MAJOR = 22;
const REEXEC_MARK = 'GATEHOUSE_CLI_REEXEC';

function packageRoot(from: string): string | undefined {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'node_modules'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function bundledNode(root: string | undefined): string | undefined {
  if (!root) return undefined;
  for (const candidate of [join(root, 'node_modules', 'node', 'bin', 'node'), join(root, 'node_modules', '.bin', 'node')]) {
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return undefined;
}

function fail(message: string): never {
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exit(1);
}

const major = Number(process.versions.node.split('.')[0]);
if (major >= MIN_MAJOR) {
  await import('./main.js');
} else {
  // Resolve symlinks: npm links bins from node_modules/.bin or its npx cache to this file.
  const self = realpathSync(fileURLToPath(import.meta.url));
  const node = bundledNode(packageRoot(self));
  const why = `gatehouse needs Node.js ${MIN_MAJOR} or newer; this is ${process.version} (${process.execPath})`;
  if (process.env[REEXEC_MARK]) fail(`${why}, and the bundled Node.js is no newer`);
  if (!node || node === realpathSync(process.execPath)) fail(`${why}. Install the package's dependencies (npm ci), which bring Node.js ${MIN_MAJOR}, or run it with a newer node.`);
  const child = spawn(node, [...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [REEXEC_MARK]: '1' },
  });
  // The child is in our process group, so a terminal's Ctrl-C reaches it directly; signals sent
  // to this process alone (kill PID) are passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (err) => fail(`could not start ${node}: ${err.message}`));
  child.on('exit', (code, signal) => {
    if (signal) {
      // Die of the same signal, so that callers see what the child saw.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
