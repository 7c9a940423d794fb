import { MANAGEMENT_SCOPES } from '../../../server/management/permissions.js';
import type { Api } from '../types.js';

export interface ScopeGroup {
  name: string;
  scopes: { name: string; description?: string }[];
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

/** Checkboxes for scopes, grouped, each group with a count; used for API keys and roles. */
export function ScopePicker({
  idPrefix,
  legend,
  groups,
  selected,
  onChange,
}: {
  idPrefix: string;
  legend: string;
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
      {groups.map((g, gi) => (
        <div class="scope-group" key={g.name} role="group" aria-label={g.name}>
          <div class="scope-group-head">
            <strong>{g.name}</strong>
            <span class="scope-count">
              {g.scopes.filter((s) => selected.has(s.name)).length} of {g.scopes.length} selected
            </span>
          </div>
          <ul class="scope-list">
            {g.scopes.map((s, si) => (
              <li key={s.name}>
                <label class="check" for={`${idPrefix}-${gi}-${si}`}>
                  <input id={`${idPrefix}-${gi}-${si}`} type="checkbox" checked={selected.has(s.name)} onChange={(e) => toggle(s.name, (e.currentTarget as HTMLInputElement).checked)} />
                  <span>
                    <code>{s.name}</code>
                    {s.description && <span class="desc">{s.description}</span>}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </fieldset>
  );
}
