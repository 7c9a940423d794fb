import pg from 'pg';
import { StorageUnavailableError, UnstorableValueError, isConnectionError, isUnstorableValue } from './errors.js';
import type { Database, Queryable, QueryResult } from './database.js';
import { listenPostgres } from './listen.js';
import { NamedStatements, isStalePlan } from './statement-names.js';

// bigint (int8) and numeric come back as strings by default; our counters fit in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

function translate(err: unknown): never {
  if (isConnectionError(err)) throw new StorageUnavailableError('postgres', { cause: err });
  if (isUnstorableValue(err)) throw new UnstorableValueError({ cause: err });
  throw err;
}

// Each parameterised statement runs under a name of its own (statement-names.ts); pg prepares it on
// each pooled connection the first time that connection runs it.
const statements = new NamedStatements<string>();
const statementName = (text: string) => {
  let name = statements.get(text);
  if (!name && !statements.full) statements.keep(text, (name = statements.nextName()));
  return name;
};

async function run<R>(q: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
  const once = () => (params?.length ? q.query({ name: statementName(text), text, values: params as unknown[] }) : q.query(text));
  try {
    let r;
    try {
      r = await once();
    } catch (err) {
      if (!isStalePlan(err)) throw err;
      statements.forget(text);
      r = await once();
    }
    return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
  } catch (err) {
    return translate(err);
  }
}

function queryable(q: pg.Pool | pg.PoolClient): Queryable {
  return {
    query: (text, params) => run(q, text, params),
    exec: async (sql) => {
      await run(q, sql);
    },
  };
}

export interface PostgresOptions {
  max?: number;
  onError?: (err: Error) => void;
}

export function createPostgresDatabase(url: string, options: PostgresOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    // Fail fast while the database is down so callers can answer 503 instead of hanging.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => options.onError?.(err));

  async function withClient<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      return translate(err);
    }
    let broken: Error | undefined;
    // pg-pool listens for 'error' only on idle clients. A checked-out client whose connection drops
    // between two queries (mid-transaction) emits 'error' with no listener, which would crash the
    // process; note it instead, so the next query fails (503) and the client is not reused.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      if (isConnectionError(err)) broken ??= err as Error;
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  const db: Database = {
    kind: 'postgres',
    ...queryable(pool),
    transaction: (fn) =>
      withClient(async (client) => {
        const tx = queryable(client);
        await tx.query('BEGIN');
        try {
          const result = await fn(tx);
          await tx.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    withAdvisoryLock: (key, fn) =>
      withClient(async (client) => {
        const q = queryable(client);
        await q.query('SELECT pg_advisory_lock($1)', [key]);
        try {
          return await fn(q);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
        }
      }),
    async ping() {
      await run(pool, 'SELECT 1');
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: (channel, listener) => listenPostgres(url, channel, listener),
    async close() {
      await pool.end();
    },
  };
  return db;
}
