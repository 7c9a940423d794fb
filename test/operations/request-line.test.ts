import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { requestLineWriter, type RequestLine } from '../../server/logger.js';

/**
 * The request line is built by hand for speed (server/logger.ts, requestLineWriter). These hold it to
 * what pino itself writes for the same fields, so a log pipeline sees one format whichever wrote it.
 */
describe('request lines (server/logger.ts requestLineWriter)', () => {
  /** A pino logger configured as createLogger's (base, ISO time), writing into an array. */
  function capture(level = 'info', bindings?: Record<string, string>) {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    // pino writes to a stream synchronously through write(); Writable buffers nothing here.
    const stream = { write: (s: string) => void sink.write(s) };
    const root = pino({ level, base: { service: 'gatehouse' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
    return { logger: bindings ? root.child(bindings) : root, lines };
  }

  const withoutTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":"T"');

  const lines: RequestLine[] = [
    { reqId: 'proxy-req-1', method: 'POST', path: '/oauth/token', status: 200, ms: 3.2, ip: '127.0.0.1' },
    { reqId: 'x', method: 'GET', path: '/a "quoted" \\ path/\u00e9\u2028', status: 404, ms: 0, ip: '2001:db8::1' },
    { reqId: 'y', method: 'PATCH', path: '/api/v1/clients', status: 503, ms: 12.5, ip: '::ffff:10.0.0.1' },
  ];

  for (const line of lines) {
    it(`writes what pino writes: ${line.method} ${line.status}`, () => {
      const ours = capture();
      const theirs = capture();
      requestLineWriter(ours.logger)(line);
      if (line.status >= 500) theirs.logger.warn(line, 'request');
      else theirs.logger.info(line, 'request');
      expect(ours.lines).to.have.length(1);
      expect(withoutTime(ours.lines[0])).to.equal(withoutTime(theirs.lines[0]));
      expect(JSON.parse(ours.lines[0]).time).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });
  }

  it("carries a child logger's bindings, as pino does", () => {
    const ours = capture('info', { node: 'a' });
    const theirs = capture('info', { node: 'a' });
    requestLineWriter(ours.logger)(lines[0]);
    theirs.logger.info(lines[0], 'request');
    expect(withoutTime(ours.lines[0])).to.equal(withoutTime(theirs.lines[0]));
  });

  it('replaces the interaction id in a path, as every other logged path is (loggablePath)', () => {
    const { logger, lines: out } = capture();
    requestLineWriter(logger)({ ...lines[0], method: 'GET', path: '/interaction/abcdefghijklmnop/login' });
    const path = JSON.parse(out[0]).path as string;
    expect(path).to.match(/^\/interaction\/~[\w-]{10}\/login$/);
    expect(path).not.to.include('abcdefghijklmnop');
  });

  it('follows the level: nothing below it, a 5xx still at warn', () => {
    const { logger, lines: out } = capture('warn');
    const write = requestLineWriter(logger);
    write(lines[0]);
    expect(out).to.have.length(0);
    write(lines[2]);
    expect(out).to.have.length(1);
    expect(JSON.parse(out[0]).level).to.equal(40);
    logger.level = 'info';
    write(lines[0]);
    expect(out).to.have.length(2);
  });
});
