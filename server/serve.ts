import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { createRuntime } from './runtime.js';
import { runPrimary } from './cluster.js';
import { answerClientErrors } from './http/client-errors.js';
import { type MetricsListener, serveMetrics } from './telemetry/metrics-server.js';
import { tracer } from './telemetry/spans.js';

/**
 * Connect, listen; on SIGTERM/SIGINT drain requests and disconnect (server/index.ts has read the
 * config and started tracing). With WEB_CONCURRENCY > 1 this process is the primary and each worker
 * runs this same function.
 */
export async function serve(config: Config) {
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, logger);
    return;
  }
  for (const name of config.generatedSecrets) {
    logger.warn({ variable: name, dataDir: config.dataDir }, `${name} is not set: using a development value kept in DATA_DIR (never do this in production)`);
  }

  const runtime = await createRuntime(config, logger);
  // /metrics: served here by a lone process; a worker's series are collected by its primary
  // (prom-client's AggregatorRegistry, server/cluster.ts), so one scrape sees every worker.
  let metricsListener: MetricsListener | undefined;
  if (runtime.metrics && cluster.isWorker) {
    // Constructing one is what makes prom-client answer the primary's requests in a worker.
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([runtime.metrics.registry]);
  } else if (runtime.metrics) metricsListener = await serveMetrics(runtime.metrics.exposition, config.metricsPort!, config.metricsHost, logger);
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
    await metricsListener?.close();
    await runtime.close();
    await tracer()?.shutdown().catch((err: Error) => logger.warn({ err: err.message }, 'could not send the last spans'));
    logger.info('stopped');
    // pino writes to stdout asynchronously: flush, or the last lines can be lost or land out of
    // order when the process exits.
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
