import { MANAGEMENT_SCOPES } from '../../../server/services/permissions.js';
import { lacking, notHeld } from '../delegation.js';
import type { Api, Me } from '../types.js';

export interface ScopeGroup {
  name: string;
  /** `unavailable` says why a scope cannot be chosen; the box is then shown but disabled. */
  scopes: { name: string; description?: string; unavailable?: string }[];
}

/** Scopes to choose from, grouped by API: the Management API first (its words from permissions.ts). */
export function scopeGroups(apis: Api[]): ScopeGroup[] {
  const management = apis.find((a) => a.builtin);
  const groups: ScopeGroup[] = [
    {
      name: management?.name ?? 'Gatehouse Management API',
      scopes: Object.entries(MANAGEMENT_SCOPES).map(([name, description]) => ({ name, description })),
    },
  ];
  for (const api of apis.filter((a) => !a.builtin).sort((a, b) => a.name.localeCompare(b.name))) {
    if (api.scopes.length) groups.push({ name: api.name, scopes: api.scopes });
  }
  return groups;
}

/**
 * The groups with what `me` may not give marked unavailable, with the reason (GET /me may_confer,
 * the delegation rule): used by every picker that gives scopes or permissions to something.
 */
export function offerOnlyConferrable(groups: ScopeGroup[], me: Me, apis: readonly Api[]): ScopeGroup[] {
  return groups.map((g) => ({
    ...g,
    scopes: g.scopes.map((s) => {
      const missing = lacking(me, apis, [s.name]);
      return missing.length ? { ...s, unavailable: notHeld(missing) } : s;
    }),
  }));
}

/**
 * Checkboxes for scopes, grouped, each group with a count; used for API keys and roles. */
export function ScopePicker({
  idPrefix,
  legend,
  hint,
  groups,
  selected,
  onChange,
}: {
  idPrefix: string;
  legend: string;
  hint?: string;
  groups: ScopeGroup[];
  selected: Set<string>;
  onChange(next: Set<string>): void;
}) {
  const toggle = (scope: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(scope);
    else next.delete(scope);
    onChange(next);
  };
  return (
    <fieldset>
      <legend>{legend}</legend>
      {hint && <p class="hint">{hint}</p>}
      {groups.map((g, gi) => (
        <div class="scope-group" key={g.name} role="group" aria-label={g.name}>
          <div class="scope-group-head">
            <strong>{g.name}</strong>
            <span class="scope-count">
              {g.scopes.filter((s) => selected.has(s.name)).length} of {g.scopes.length} selected
            </span>
          </div>
          <ul class="scope-list">
            {g.scopes.map((s, si) => {
              const id = `${idPrefix}-${gi}-${si}`;
              return (
                <li key={s.name} class={s.unavailable ? 'scope-unavailable' : undefined}>
                  <label class="check" for={id}>
                    <input
                      id={id}
                      type="checkbox"
                      checked={selected.has(s.name)}
                      // One already held may still be removed: taking away is never refused by the rule.
                      disabled={Boolean(s.unavailable) && !selected.has(s.name)}
                      aria-describedby={s.unavailable ? `${id}-why` : undefined}
                      onChange={(e) => toggle(s.name, (e.currentTarget as HTMLInputElement).checked)}
                    />
                    <span>
                      <code>{s.name}</code>
                      {s.description && <span class="desc">{s.description}</span>}
                      {s.unavailable && (
                        <span class="desc" id={`${id}-why`}>
                          {s.unavailable}
                        </span>
                      )}
                    </span>
                  </label>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </fieldset>
  );
}
