import pg from 'pg';
import type { ChannelListener } from './database.js';

/**
 * The application_name of a node's connection listening on `channel`. Named per channel: a node
 * listens on several (change notifications, Shared Signals), and the nodes count each other by
 * their listeners on one of them (server/store/cache.ts sync()).
 */
export const listenerName = (channel: string) => `gatehouse-listener:${channel}`.slice(0, 63);

/** How often the listening connection is asked to answer; a stalled one is dropped after one miss. */
export const HEARTBEAT_MS = 2000;
const RECONNECT_MS = [100, 250, 500, 1000, 2000];

/**
 * LISTEN on a Postgres channel with a connection of its own (a pooled one would be handed to other
 * queries and lose the subscription). The connection is watched three ways, so that a node never
 * trusts its caches longer than a bounded time after it may have started missing notifications:
 * - an error or end event (Postgres stopped, the connection was reset): down() at once;
 * - a heartbeat query every HEARTBEAT_MS that must answer within HEARTBEAT_MS (a partition or a
 *   stalled server, which TCP alone notices only minutes later): down() within 2 × HEARTBEAT_MS;
 * then it reconnects with a growing delay and calls up() once LISTEN succeeds again.
 */
export async function listenPostgres(url: string, channel: string, listener: ChannelListener): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let listening = false;
  let stopped = false;
  let attempt = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;

  const lost = (c: pg.Client) => {
    if (c !== client) return;
    client = undefined;
    clearInterval(heartbeat);
    c.removeAllListeners('notification');
    c.on('error', () => undefined);
    c.end().catch(() => undefined);
    if (listening) {
      listening = false;
      listener.down();
    }
    if (!stopped) retry = setTimeout(() => void connect(), RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)]);
  };

  async function connect(): Promise<void> {
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: 3000,
      query_timeout: HEARTBEAT_MS,
      // How the nodes count each other (server/store/cache.ts sync()).
      application_name: listenerName(channel),
    });
    client = c;
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload !== undefined) listener.message(n.payload);
    });
    try {
      await c.connect();
      // The channel name is ours (a constant), never user input; identifiers cannot be parameters.
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch {
      lost(c);
      return;
    }
    if (c !== client || stopped) return;
    attempt = 0;
    listening = true;
    listener.up();
    heartbeat = setInterval(() => {
      c.query('SELECT 1').catch(() => lost(c));
    }, HEARTBEAT_MS);
    heartbeat.unref();
  }

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    clearInterval(heartbeat);
    const c = client;
    client = undefined;
    if (c) await c.end().catch(() => undefined);
  };
}
