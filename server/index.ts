import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';
import { runPrimary } from './cluster.js';
import { answerClientErrors } from './http/client-errors.js';

/**
 * Entry point: read config, connect, listen; on SIGTERM/SIGINT drain requests and disconnect. With
 * WEB_CONCURRENCY > 1 this process is the primary and each worker runs this same function.
 */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, logger);
    return;
  }
  for (const name of config.generatedSecrets) {
    logger.warn({ variable: name, dataDir: config.dataDir }, `${name} is not set: using a development value kept in DATA_DIR (never do this in production)`);
  }

  const runtime = await createRuntime(config, logger);
  const app = buildApp(runtime);
  const server = app.listen(config.port);
  answerClientErrors(server);
  server.keepAliveTimeout = 65_000; // longer than common load-balancer idle timeouts
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  logger.info(
    { port, issuer: config.issuer, console: `${config.issuer}/console/`, storage: runtime.db.kind, cache: runtime.redis ? 'redis' : 'database', ...(cluster.worker ? { worker: cluster.worker.id, pid: process.pid } : {}) },
    `gatehouse listening; console at ${config.issuer}/console/, discovery at ${config.issuer}/.well-known/openid-configuration`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const force = setTimeout(() => server.closeAllConnections(), 10_000).unref();
    server.close();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.once('close', resolve));
    clearTimeout(force);
    await runtime.close();
    logger.info('stopped');
    // pino writes to stdout asynchronously: flush, or the last lines can be lost or land out of
    // order when the process exits.
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`gatehouse failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
