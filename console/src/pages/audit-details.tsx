import { Fragment } from 'preact';

/** A value of an event's data in words: lists joined, nothing as a dash, nested objects as key: value. */
function plain(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.length ? value.map(plain).join(', ') : 'none';
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k}: ${plain(v)}`).join('; ');
  return String(value);
}

const isList = (v: unknown): v is unknown[] => Array.isArray(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One before/after pair: lists as what was added and removed, anything else as before → after. */
function Change({ name, before, after }: { name: string; before: unknown; after: unknown }) {
  if (isList(before) && isList(after)) {
    const added = after.filter((v) => !before.some((b) => plain(b) === plain(v)));
    const removed = before.filter((v) => !after.some((a) => plain(a) === plain(v)));
    return (
      <>
        <dt>{name}</dt>
        <dd>
          {added.length > 0 && <span class="change-added">added {plain(added)}</span>}
          {removed.length > 0 && <span class="change-removed">removed {plain(removed)}</span>}
          {!added.length && !removed.length && <span>unchanged ({plain(after)})</span>}
        </dd>
      </>
    );
  }
  return (
    <>
      <dt>{name}</dt>
      <dd>
        <span class="change-before">{plain(before)}</span> → <span class="change-after">{plain(after)}</span>
      </dd>
    </>
  );
}

/**
 * An event's data as a list of key: value, and where the event carries `before` and `after`, what
 * changed: for each field of two objects, or for the one value (a role's permissions, a user's roles).
 */
export function EventDetails({ data }: { data: Record<string, unknown> }) {
  const { before, after, ...rest } = data;
  const changed = 'before' in data && 'after' in data;
  const entries = Object.entries(changed ? rest : data);
  if (!entries.length && !changed) return <span class="muted">—</span>;
  return (
    <dl class="event-data">
      {entries.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{plain(v)}</dd>
        </Fragment>
      ))}
      {changed &&
        (isRecord(before) && isRecord(after) ? (
          [...new Set([...Object.keys(before), ...Object.keys(after)])].map((k) => <Change key={k} name={k} before={before[k]} after={after[k]} />)
        ) : (
          <Change name="change" before={before} after={after} />
        ))}
    </dl>
  );
}
