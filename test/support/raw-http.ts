import http from 'node:http';
import net from 'node:net';

/**
 * Requests sent exactly as written, with node:http rather than fetch: fetch normalises what these
 * tests must send as is (a Host header of our choosing, an absolute-form request target, invalid
 * percent-encoding, raw bytes above 0x7f, repeated parameters).
 */

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked, so no Content-Length announces its size. */
  chunked?: boolean;
}

export function send(base: string, { method = 'GET', path, headers = {}, body, chunked }: Req): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers, agent: false, setHost: !('host' in headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      // Several writes before end(): Node then frames the body as chunks.
      const buf = Buffer.from(body);
      for (let i = 0; i < buf.length; i += 64 * 1024) req.write(buf.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** Bytes no HTTP client library will send (a NUL in the request line): straight onto a socket. */
export function sendRaw(base: string, head: Buffer): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(head));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, headers: {}, text: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}
