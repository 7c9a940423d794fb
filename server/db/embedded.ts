import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PGlite, type PGliteOptions, type Results, type Transaction } from '@electric-sql/pglite';
import { UnstorableValueError, isUnstorableValue } from './errors.js';
import type { Database, Queryable, QueryResult } from './database.js';
import { lockDataDir } from './data-dir-lock.js';
import { preparedStatements } from './pglite-statements.js';
import { tracer } from '../telemetry/spans.js';

/** SELECT, INSERT, ...: the statement's first word, the only part of it a span carries. */
const operation = (text: string) => /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'QUERY';

type Artifacts = Pick<PGliteOptions, 'pgliteWasmModule' | 'initdbWasmModule' | 'fsBundle'>;
// Node has the WebAssembly global; the project's type libraries (no DOM) do not declare it.
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<NonNullable<Artifacts['pgliteWasmModule']>> };
let artifacts: Promise<Artifacts> | undefined;

/**
 * PGlite's two WebAssembly modules and its file-system bundle, compiled and read once per process and
 * shared by every embedded database it opens (the test runner opens hundreds). Left to itself, each
 * PGlite.create compiles its own copy and V8 frees that code again on close; that churn is slow, and
 * on Node 24 it can trip a fatal V8 check in JIT page bookkeeping ("jit_page_->allocations_.erase",
 * nodejs/node#64500), which killed a CI run. One module, held here for the life of the process, is
 * never freed.
 */
function pgliteArtifacts(): Promise<Artifacts> {
  artifacts ??= (async () => {
    const file = (name: string) => createRequire(import.meta.url).resolve(`@electric-sql/pglite/${name}`);
    const [pglite, initdb, bundle] = await Promise.all(['pglite.wasm', 'initdb.wasm', 'pglite.data'].map((name) => readFile(file(name))));
    return {
      pgliteWasmModule: await WebAssembly.compile(pglite),
      initdbWasmModule: await WebAssembly.compile(initdb),
      fsBundle: new Blob([bundle]),
    };
  })();
  // A failed read is not kept: the next start tries again.
  artifacts.catch(() => (artifacts = undefined));
  return artifacts;
}

/**
 * Embedded Postgres (PGlite) in DATA_DIR/pg. One process owns it (server/db/data-dir-lock.ts: any
 * other is refused before it touches the folder); PGlite serialises queries, and a transaction holds
 * it exclusively, so advisory locks reduce to running the function. `what` names this process in
 * the refusal another one gets.
 */
export async function createEmbeddedDatabase(dataDir: string, what = 'a Gatehouse process'): Promise<Database> {
  const lock = await lockDataDir(dataDir, what);
  let pglite: PGlite;
  try {
    const dir = join(dataDir, 'pg');
    mkdirSync(dir, { recursive: true });
    pglite = await PGlite.create(dir, await pgliteArtifacts());
  } catch (err) {
    await lock.release();
    throw err;
  }

  // Every query through a named prepared statement (pglite-statements.ts), as PGlite's own query()
  // would run it otherwise: a root query waits for any open transaction (PGlite's transaction lock)
  // and syncs the files after it; one inside a transaction holds only the query lock.
  const statements = preparedStatements(pglite);
  const answer = async <R>(run: () => Promise<Results<R>>): Promise<QueryResult<R>> => {
    try {
      const r = await run();
      return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
    } catch (err) {
      // The same answer as the pg pool gives (server/db/postgres.ts): a NUL from a request is a 400.
      if (isUnstorableValue(err)) throw new UnstorableValueError({ cause: err });
      throw err;
    }
  };
  const rootQueries: Queryable = {
    async exec(sql: string) {
      await pglite.exec(sql);
    },
    query: <R>(text: string, params: readonly unknown[] = []) =>
      answer<R>(async () => {
        await pglite._checkReady();
        return pglite._runExclusiveTransaction(() =>
          pglite._runExclusiveQuery(async () => {
            const r = await statements.run(text, params);
            await pglite.syncToFs();
            return r as Results<R>;
          }),
        );
      }),
  };
  const transactionQueries = (tx: Transaction): Queryable => ({
    async exec(sql: string) {
      await tx.exec(sql);
    },
    query: <R>(text: string, params: readonly unknown[] = []) => answer<R>(() => pglite._runExclusiveQuery(() => statements.run(text, params)) as Promise<Results<R>>),
  });
  // With tracing on, a span per query, as the pg instrumentation makes for a real Postgres.
  const tracing = tracer();
  const traced = (q: Queryable): Queryable =>
    tracing
      ? {
          exec: (sql) => tracing.span('pglite.exec', { 'db.system.name': 'postgresql', 'db.namespace': 'embedded' }, () => q.exec(sql)),
          query: (text, params) =>
            tracing.span(`pglite.query ${operation(text)}`, { 'db.system.name': 'postgresql', 'db.namespace': 'embedded', 'db.operation.name': operation(text) }, () =>
              q.query(text, params),
            ),
        }
      : q;
  const root = traced(rootQueries);

  return {
    kind: 'embedded',
    query: root.query,
    exec: root.exec,
    transaction: (fn) => pglite.transaction((tx) => fn(traced(transactionQueries(tx)))),
    withAdvisoryLock: (_key, fn) => fn(root),
    async ping() {
      await pglite.query('SELECT 1');
    },
    // One process owns the embedded database, so its notifications can never be missed: up for good.
    async listen(channel, listener) {
      const unsubscribe = await pglite.listen(channel, (payload) => listener.message(payload));
      listener.up();
      return unsubscribe;
    },
    async close() {
      try {
        await pglite.close();
      } finally {
        await lock.release();
      }
    },
  };
}
