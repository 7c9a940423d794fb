import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { type MetricsListener, serveMetrics } from './telemetry/metrics-server.js';

/** A worker that dies is replaced after this long (not at once: a crash loop would spin the CPU). */
const RESTART_DELAY_MS = 1000;

/**
 * The primary process of WEB_CONCURRENCY > 1: it serves nothing itself and holds no connection. It
 * starts the workers (node:cluster; the listening socket is shared and connections are handed out
 * round-robin), each a full node with its own pools, caches and provider, exactly as separate hosts
 * would be; they agree through Postgres and Redis only.
 *
 * The first worker starts alone, so that migrations and the seed file run once before the others
 * start. A worker that dies is replaced. With METRICS_PORT the primary serves /metrics: each scrape
 * asks every worker for its series over the cluster channel and answers with their sum (or min or max,
 * as each series says), so one scrape sees the whole process group. SIGTERM/SIGINT is passed to every worker, which drains its
 * requests (server/index.ts); the primary exits when all have.
 */
export async function runPrimary(config: Config, logger: Logger): Promise<void> {
  let stopping = false;
  const fork = () => cluster.fork();

  cluster.on('exit', (worker: Worker, code, signal) => {
    if (stopping) return;
    logger.error({ worker: worker.id, code, signal }, 'worker exited; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS).unref();
  });

  // Before any worker: a metrics port that cannot be bound stops the start with nothing to clean up.
  let metricsListener: MetricsListener | undefined;
  if (config.metricsPort !== undefined) {
    const aggregator = new AggregatorRegistry();
    metricsListener = await serveMetrics({ contentType: aggregator.contentType, render: () => aggregator.clusterMetrics() }, config.metricsPort, config.metricsHost, logger);
  }
  const first = fork();
  await new Promise<void>((resolve, reject) => {
    first.once('listening', () => resolve());
    first.once('exit', (code) => reject(new Error(`the first worker exited with code ${code} before listening`)));
  });
  for (let i = 1; i < config.workers; i++) fork();
  logger.info({ workers: config.workers }, `gatehouse primary started ${config.workers} workers`);

  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: stopping workers');
    await metricsListener?.close();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.process.kill(signal);
          }),
      ),
    );
    logger.info('stopped');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
