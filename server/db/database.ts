/**
 * The one database interface the rest of the server uses. Two implementations: a pg Pool against a
 * real Postgres, and PGlite (Postgres compiled to WASM) in DATA_DIR for the zero-setup default.
 * Both speak the same SQL, so migrations and queries are shared.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** What a listener on a notification channel is told (see Database.listen). */
export interface ChannelListener {
  /** One NOTIFY payload. */
  message(payload: string): void;
  /**
   * The channel is listening (again). Notifications sent while it was down are lost, so anything
   * may have changed since the last message.
   */
  up(): void;
  /** The channel dropped or stopped answering: from now on notifications may be missed. */
  down(): void;
}

export interface PoolStats {
  /** Connections open, idle or in use. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /** Runs fn in one transaction; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn while holding a session-level advisory lock (one node at a time across the cluster). */
  withAdvisoryLock<T>(key: number, fn: (db: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** The connection pool now (Postgres only; the embedded database has no pool): for the metrics. */
  poolStats?(): PoolStats;
  /**
   * LISTENs on a channel (Postgres NOTIFY, delivered at commit) on a connection of its own, and keeps
   * listening across outages: up() each time it is listening, down() each time it may miss messages.
   * Resolves once the first attempt has succeeded or failed; the returned function stops listening.
   */
  listen(channel: string, listener: ChannelListener): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * A transaction seen as a Database, so that several operations that each open a transaction (the
 * services) run as one: theirs join this one, and everything commits or rolls back together (the
 * seed file is applied whole or not at all).
 */
export function joinTransaction(db: Database, tx: Queryable): Database {
  return {
    kind: db.kind,
    query: (text, params) => tx.query(text, params),
    exec: (sql) => tx.exec(sql),
    transaction: (fn) => fn(tx),
    withAdvisoryLock: (_key, fn) => fn(tx),
    listen: (channel, listener) => db.listen(channel, listener),
    ping: () => db.ping(),
    close: () => Promise.reject(new Error('a joined transaction is closed by its owner')),
  };
}
