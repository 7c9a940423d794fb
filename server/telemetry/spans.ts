import type { Attributes, Span } from '@opentelemetry/api';

/**
 * Our own spans (the token request, client authentication, signing, the embedded database), through
 * a tracer that server/telemetry/tracing.ts installs when OTEL_EXPORTER_OTLP_ENDPOINT is set. This
 * module loads nothing of OpenTelemetry (the imports above are types): without tracing, `tracer()` is
 * undefined and the places that would make spans install nothing, so the token path is unchanged.
 */
export interface Tracer {
  /** Runs fn in a new active span (a child of the current one); an error marks the span and is rethrown. */
  span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T>;
  /** The current span's ids for a log line (trace_id, span_id, trace_flags), or {} outside a span. */
  logFields(): Record<string, string>;
  /** Sends the spans not yet exported; called on the way out. */
  shutdown(): Promise<void>;
}

let installed: Tracer | undefined;

export function installTracer(tracer: Tracer): void {
  installed = tracer;
}

/** The tracer, when tracing is on. Read when something is built, not per request. */
export function tracer(): Tracer | undefined {
  return installed;
}
