import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's parser errors with a status of their own (as Node's default handler maps them); the rest are 400. */
const STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431, // RFC 6585 §5
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/**
 * Answers a request Node's HTTP parser refuses (a 100 KB request line, bytes that are not HTTP) with
 * its status and a clean close. Node 24's default handler closes the socket with the rest of the
 * request still unread, so the kernel resets the connection and the client often sees ECONNRESET
 * instead of the 431; here the unread bytes are drained first, so the client reads the answer.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = STATUS[err.code ?? ''] ?? 400;
    socket.on('error', () => socket.destroy());
    socket.resume();
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // A client that keeps sending is not drained for ever.
    setTimeout(() => socket.destroy(), 5000).unref();
  });
}
