import { register as registerHooks } from 'import-in-the-middle/register-hooks.mjs';
import { installTracer } from './spans.js';

/**
 * OpenTelemetry traces (README "Traces"): the SDK with the http, koa, pg and ioredis
 * instrumentations, exporting over OTLP as the standard OTEL_* variables say. server/index.ts
 * imports this module only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and before any module of the
 * app, so that the instrumented packages are patched as they load; without it nothing here loads.
 *
 * Our modules are ES modules and import pg, ioredis and koa with `import`, which the SDK's
 * require() hooks never see: import-in-the-middle's loader hooks see them, and only the packages
 * named here are intercepted (every other module loads untouched).
 */
const INSTRUMENTED = ['pg', 'pg-pool', 'koa', 'ioredis'];

export async function startTracing(): Promise<void> {
  registerHooks({ include: INSTRUMENTED });
  const [{ NodeSDK }, api, { HttpInstrumentation }, { KoaInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/api'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-koa'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || 'gatehouse',
    instrumentations: [
      // Health checks and scrapes would be most of the traces and say nothing.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => req.url === '/healthz' || req.url === '/readyz' }),
      new KoaInstrumentation(),
      // Statement text only (parameters can hold digests, emails, sealed keys), as the default.
      new PgInstrumentation({ enhancedDatabaseReporting: false }),
      // Redis commands are logged without their arguments (keys hold digests, values sealed payloads).
      new IORedisInstrumentation({ dbStatementSerializer: (command) => command }),
    ],
    // Traces only: metrics are Prometheus (METRICS_PORT) and logs are JSON lines on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  const tracer = api.trace.getTracer('gatehouse');
  installTracer({
    span(name, attributes, fn) {
      return tracer.startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error)?.message });
          throw err;
        } finally {
          span.end();
        }
      });
    },
    logFields(): Record<string, string> {
      const span = api.trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId, traceFlags } = span.spanContext();
      return { trace_id: traceId, span_id: spanId, trace_flags: traceFlags.toString(16).padStart(2, '0') };
    },
    shutdown: () => sdk.shutdown(),
  });
}
