import net from 'node:net';

/**
 * A TCP proxy in front of a real service, for outage tests. Nothing about the protocol is faked: the
 * clients talk to the real Postgres or Redis through it. Two kinds of outage:
 * - cut(): every open connection is reset, and each new one is reset as soon as it is accepted
 *   (what a client sees of a crashed or stopped server);
 * - stall(): connections stay open but no byte gets through either way, new ones included (a
 *   network partition, or a server that stopped answering).
 * restore() ends either; stalled connections then carry on with what was held back.
 */
export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

type Pair = [client: net.Socket, upstream: net.Socket];

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let state: 'up' | 'cut' | 'stalled' = 'up';

  const flow = ([client, upstream]: Pair) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const hold = ([client, upstream]: Pair) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };

  const server = net.createServer((client) => {
    if (state === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = [client, net.connect(target.port, target.host)];
    const drop = () => {
      pairs.delete(pair);
      for (const s of pair) s.destroy();
    };
    for (const s of pair) s.on('error', drop).on('close', drop);
    pairs.add(pair);
    if (state === 'up') flow(pair);
    else hold(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  const proxy: TcpProxy = {
    port,
    through(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      state = 'cut';
      for (const pair of pairs) for (const s of pair) s.resetAndDestroy();
      pairs.clear();
    },
    stall() {
      state = 'stalled';
      for (const pair of pairs) hold(pair);
    },
    restore() {
      if (state === 'stalled') for (const pair of pairs) flow(pair);
      state = 'up';
    },
    async close() {
      proxy.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
