import { pino, type Logger as PinoLogger } from 'pino';
import { digest } from './crypto/tokens.js';
import { tracer } from './telemetry/spans.js';

export type Logger = PinoLogger;

/** Paths that carry an interaction id: the login/consent pages and oidc-provider's resume endpoint. */
const INTERACTION_PATH = /^(\/interaction\/|\/oauth\/authorize\/)([^/]+)/;

/**
 * A request path as it may be logged. The interaction id in it is also the value of the interaction
 * and resume cookies, so it is replaced by a short digest that still ties one interaction's lines
 * together without being usable (it is the start of the interaction's storage key).
 */
export function loggablePath(path: string): string {
  return path.replace(INTERACTION_PATH, (_, prefix: string, uid: string) => `${prefix}~${digest(uid).slice(0, 10)}`);
}

/**
 * Structured JSON logs. Redaction is a second line of defence: handlers never log bodies or query
 * strings, but if a header or a field named like a credential slips into a log object it is masked.
 */
export function createLogger(level: string): Logger {
  // With tracing on, every line written inside a span carries its trace_id and span_id (the names
  // OpenTelemetry's log data model uses), so a line leads to its trace and back. Without it, no mixin.
  const traced = tracer();
  // Written asynchronously and in batches (issue 10: "logging stays asynchronous"): lines gather until
  // 4 KB or 200 ms, then go out in one write(2), instead of one system call per request line (which
  // was 2.4% of a client_credentials request's CPU). pino flushes what is left, synchronously, when the
  // process exits (lib/tools.js, on-exit-leak-free); only a SIGKILL loses the last 200 ms.
  const stdout = pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 });
  return pino({
    level,
    ...(traced ? { mixin: () => traced.logFields() } : {}),
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every `path` field (request lines, error lines) goes through loggablePath.
    formatters: {
      log: (object) => (typeof object.path === 'string' ? { ...object, path: loggablePath(object.path) } : object),
    },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.password',
        '*.client_secret',
        '*.code',
        '*.refresh_token',
        '*.access_token',
        '*.id_token',
        '*.secret',
        '*.key',
      ],
      censor: '[redacted]',
    },
  }, stdout);
}
