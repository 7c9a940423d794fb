/**
 * One resource-server process for `npm run bench:ssf` and test/ssf/resource-server-restart.test.ts: the library (packages/resource-server) with a
 * poll stream, answering GET /orders with 200 for a token it accepts and the library's refusal
 * otherwise. Configured by the environment the benchmark sets.
 */
import { createServer } from 'node:http';
import { ResourceServer, protect } from '../packages/resource-server/src/index.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const rs = new ResourceServer({
  issuer: env('ISSUER'),
  url: env('GATEHOUSE_URL'),
  audience: env('AUDIENCE'),
  stream: { clientId: env('CLIENT_ID'), clientSecret: env('CLIENT_SECRET'), streamName: env('STREAM_NAME') },
});
await rs.start();
const server = createServer(protect(rs, (_req, res) => res.end('ok')));
server.keepAliveTimeout = 60_000;
server.listen(Number(env('PORT')), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  void rs.stop().then(() => process.exit(0));
});
