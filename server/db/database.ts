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

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'embedded';
  /** Runs fn in one transaction; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn while holding a session-level advisory lock (one node at a time across the cluster). */
  withAdvisoryLock<T>(key: number, fn: (db: Queryable) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
