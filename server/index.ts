import cluster from 'node:cluster';
import { ConfigError, type Config, loadConfig } from './config.js';

/**
 * Entry point: read the config, start tracing if asked, then load the app and serve (server/serve.ts).
 * The app is imported only after tracing has started, so that the packages it instruments (pg,
 * ioredis, koa, http) are patched as they load; without OTEL_EXPORTER_OTLP_ENDPOINT no module of
 * OpenTelemetry is loaded at all.
 */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // The primary of several workers serves no request: its workers trace (each runs this file).
  if (config.tracing && !(config.workers > 1 && cluster.isPrimary)) {
    const { startTracing } = await import('./telemetry/tracing.js');
    await startTracing();
  }
  const { serve } = await import('./serve.js');
  await serve(config);
}

main().catch((err) => {
  process.stderr.write(`gatehouse failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
