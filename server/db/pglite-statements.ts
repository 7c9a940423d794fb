import { type PGlite, type Results, parse, protocol } from '@electric-sql/pglite';
import { NamedStatements, isStalePlan } from './statement-names.js';

interface Prepared {
  /** '' for the unnamed statement, once MAX_NAMED texts are kept. */
  name: string;
  /** The parameters' type OIDs, as Postgres inferred them: how each value is serialised. */
  types: number[];
}

/** Protocol messages sent to the embedded backend in one call, as a client pipelines them. */
function frame(...messages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(messages.reduce((n, m) => n + m.length, 0));
  let at = 0;
  for (const m of messages) {
    out.set(m, at);
    at += m.length;
  }
  return out;
}

/**
 * Queries on PGlite through named prepared statements (statement-names.ts).
 *
 * PGlite's own query() parses, describes, binds, describes, executes and syncs every query as six
 * separate calls into the WebAssembly backend, with the unnamed statement: each execution is parsed
 * and planned again. On the embedded default, where the backend runs on the server's main thread,
 * that was most of a refresh's CPU (README "Benchmark"). Here a text is parsed and described once per
 * database, then each execution is one call: Bind, Describe, Execute and Sync together. That is the
 * extended protocol as any client pipelines it (PostgreSQL docs, "Extended Query"): should a step
 * fail, the backend skips to the Sync, so the session is ready for the next query either way.
 *
 * Values are serialised and rows parsed with PGlite's own serialisers and parsers, as its query()
 * does. `run` must be called holding PGlite's query lock (runExclusive), as its query() holds it.
 */
export function preparedStatements(pglite: PGlite) {
  const statements = new NamedStatements<Prepared>();
  const send = (...messages: Uint8Array[]) => pglite.execProtocolStream(frame(...messages), { syncToFs: false });

  async function prepare(text: string): Promise<Prepared> {
    const name = statements.full ? '' : statements.nextName();
    const described = await send(protocol.serialize.parse({ name, text }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync());
    const prepared = { name, types: parse.parseDescribeStatementResults(described) };
    if (name) statements.keep(text, prepared);
    return prepared;
  }

  async function execute(text: string, params: readonly unknown[]): Promise<Results> {
    const prepared = statements.get(text) ?? (await prepare(text));
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serializer = pglite.serializers[prepared.types[i]];
      return serializer ? serializer(value) : String(value);
    });
    const messages = await send(
      protocol.serialize.bind({ statement: prepared.name, values }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    );
    return parse.parseResults(messages, pglite.parsers)[0];
  }

  return {
    async run(text: string, params: readonly unknown[]): Promise<Results> {
      try {
        return await execute(text, params);
      } catch (err) {
        if (!isStalePlan(err)) throw err;
        // Prepared again under a new name; the old one stays in the backend, unused (migrations run
        // at start, so this happens at most once per statement).
        statements.forget(text);
        return execute(text, params);
      }
    },
  };
}
