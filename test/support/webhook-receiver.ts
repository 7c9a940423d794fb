import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver got, as it arrived. */
export interface Received {
  headers: Record<string, string>;
  body: string;
}

/**
 * What the receiver does with a request: answer with a status, or hold it open (the response is
 * never written; the connection ends when the sender goes away or the receiver closes).
 */
export type Answer = number | 'hold';

/**
 * A real HTTP receiver for webhook deliveries (node:http on port 0 of 127.0.0.1). `answer` decides
 * per request (default 204); every request is kept in `received`, in order of arrival.
 */
export async function startReceiver(answer: (r: Received, index: number) => Answer = () => 204) {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r: Received = { headers: req.headers as Record<string, string>, body };
      received.push(r);
      const a = answer(r, received.length - 1);
      if (a === 'hold') held.push(res);
      else res.writeHead(a).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Verifies a delivery as a receiver would (README "Webhooks"), returning its parsed body; throws if forged. */
export function verified(secret: string, r: Received): { type: string; timestamp: string; data: Record<string, any> } {
  return new Webhook(secret).verify(r.body, r.headers) as never;
}
