import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/**
 * Structured JSON logs. Redaction is a second line of defence: handlers never log bodies or query
 * strings, but if a header or a field named like a credential slips into a log object it is masked.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'gatehouse' },
    timestamp: pino.stdTimeFunctions.isoTime,
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
  });
}
