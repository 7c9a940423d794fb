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
  // 16 KB or 200 ms, then go out in one write(2), instead of one system call per request line (which
  // was 2.4% of a client_credentials request's CPU). pino flushes what is left, synchronously, when the
  // process exits (lib/tools.js, on-exit-leak-free); only a SIGKILL loses the last 200 ms.
  // Lines are handed over as bytes: in text mode sonic-boom 4 measures the whole pending batch again
  // on each write (Buffer.byteLength of its last chunk, which flattens it), about 4 µs a line against
  // 0.7 in buffer mode on the benchmark's machine.
  const batched = pino.destination({ dest: 1, sync: false, minLength: 16 * 1024, maxWrite: 64 * 1024, periodicFlush: 200, contentMode: 'buffer' });
  const stdout = {
    write: (line: string) => batched.write(Buffer.from(line) as unknown as string),
    flush: (done?: (err?: Error) => void) => batched.flush(done),
    flushSync: () => batched.flushSync(),
  };
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

/** The fields of a request line (server/http/request-log.ts). */
export interface RequestLine {
  reqId: string;
  method: string;
  path: string;
  status: number;
  ms: number;
  ip: string;
}

const json = JSON.stringify;

/**
 * Writes request lines, one per request, exactly as the logger would write
 * `logger.info(line, 'request')` (warn for a 5xx): the same fields in the same order, to the same
 * stream, behind the same level. It builds the JSON itself because a request line's fields are known
 * and hold no secret (the path is made loggable here), so pino's per-call work (merging, redaction,
 * formatters, serialising a generic object, formatting the time) was a tenth of a client_credentials
 * request's CPU for one line (issue 10: "the request log costs as little as the work it records").
 * test/operations/request-line.test.ts holds it to pino's output.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const symbols = pino.symbols;
  const internals = logger as unknown as Record<symbol, unknown>;
  const stream = internals[symbols.streamSym] as { write(chunk: string): unknown };
  // The base and child bindings, already serialised by pino: `,"service":"gatehouse"`.
  const bindings = internals[symbols.chindingsSym] as string;
  const traced = tracer();
  let lastMs = 0;
  let time = '';
  return (line) => {
    const level = line.status >= 500 ? 40 : 30;
    if (level < logger.levelVal) return;
    // pino.stdTimeFunctions.isoTime, made once per millisecond rather than once per line.
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      time = new Date(now).toISOString();
    }
    let out = `{"level":${level},"time":"${time}"${bindings}`;
    if (traced) for (const [name, value] of Object.entries(traced.logFields())) out += `,${json(name)}:${json(value)}`;
    out += `,"reqId":${json(line.reqId)},"method":${json(line.method)},"path":${json(loggablePath(line.path))},"status":${line.status},"ms":${line.ms},"ip":${json(line.ip)},"msg":"request"}\n`;
    stream.write(out);
  };
}
