/**
 * Named prepared statements, for both databases (server/db/postgres.ts, server/db/embedded.ts): a
 * Postgres session parses and plans a named statement once and then only binds and executes it,
 * instead of parsing and planning its text on every execution.
 *
 * The store layer's statements are a fixed set of texts, so the names stay few. Should a store
 * function ever build texts without bound, those past MAX_NAMED run unnamed, as before, rather than
 * fill every session with plans.
 */
export const MAX_NAMED = 1000;

/** What each statement text is known as, up to MAX_NAMED texts. */
export class NamedStatements<V> {
  private readonly known = new Map<string, V>();
  private made = 0;

  /** A name never handed out before, so a statement prepared again cannot meet its old plan. */
  nextName(): string {
    return `gh${this.made++}`;
  }

  get(text: string): V | undefined {
    return this.known.get(text);
  }

  /** Whether no more texts may be kept: the next ones run unnamed. */
  get full(): boolean {
    return this.known.size >= MAX_NAMED;
  }

  keep(text: string, value: V): void {
    if (!this.full) this.known.set(text, value);
  }

  forget(text: string): void {
    this.known.delete(text);
  }
}

/**
 * A statement prepared before a migration changed its table (on another node during a rolling
 * upgrade, or in this process) can no longer run as prepared: "cached plan must not change result
 * type". Its caller prepares it again under a new name, once.
 */
export const isStalePlan = (err: unknown): boolean =>
  (err as { code?: string }).code === '0A000' && /cached plan/.test(String((err as Error).message));
