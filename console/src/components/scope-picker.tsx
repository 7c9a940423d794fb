import { useEffect, useRef } from 'preact/hooks';
import { MANAGEMENT_SCOPES } from '../../../server/services/permissions.js';
import { Button } from './ui.js';
import { lacking, notHeld } from '../delegation.js';
import type { Api, Me } from '../types.js';

export interface ScopeGroup {
  name: string;
  /** `unavailable` says why a scope cannot be chosen; the box is then shown but disabled. */
  scopes: { name: string; description?: string; unavailable?: string }[];
}

/**
 * The order every scope editor lists APIs in (a credential's scopes, an API key's, a role's): your
 * APIs by name, then the built-in Management API, which is for automation and most need none of.
 */
export const apisInPickerOrder = <A extends Pick<Api, 'builtin' | 'name'>>(apis: readonly A[]): A[] =>
  [...apis].sort((a, b) => Number(a.builtin) - Number(b.builtin) || a.name.localeCompare(b.name));

/** Scopes to choose from, grouped by API in picker order (the Management API's words from permissions.ts). */
export function scopeGroups(apis: Api[]): ScopeGroup[] {
  const management = apis.find((a) => a.builtin);
  const groups: ScopeGroup[] = [];
  for (const api of apisInPickerOrder(apis.filter((a) => !a.builtin))) {
    if (api.scopes.length) groups.push({ name: api.name, scopes: api.scopes });
  }
  groups.push({
    name: management?.name ?? 'Gatehouse Management API',
    scopes: Object.entries(MANAGEMENT_SCOPES).map(([name, description]) => ({ name, description })),
  });
  return groups;
}

/** A group's select-all box: checked when all are, mixed (indeterminate) when some are. */
export function GroupCheckbox({ name, selected, total, disabled, onToggle }: { name: string; selected: number; total: number; disabled: boolean; onToggle(all: boolean): void }) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = selected > 0 && selected < total;
  }, [selected, total]);
  return (
    <label class="check">
      <input ref={ref} type="checkbox" disabled={disabled} checked={total > 0 && selected === total} onChange={() => onToggle(selected < total)} aria-label={`Select all ${name} scopes`} />
      {name}
    </label>
  );
}

/** The read-only preset of one API: its `*:read` scopes that may be chosen, and nothing else of it. */
export function readOnlyOf(group: ScopeGroup, selected: Set<string>): Set<string> {
  const next = new Set(selected);
  for (const s of group.scopes) {
    if (s.name.endsWith(':read') && !s.unavailable) next.add(s.name);
    else next.delete(s.name);
  }
  return next;
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
 * Checkboxes for scopes, grouped, each group with a select-all box and a count; used for API keys and
 * roles. `presets` adds a per-group "Read-only" button (API keys). What may not be chosen is shown,
 * disabled, with the reason; select-all and the preset leave it as it is.
 */
export function ScopePicker({
  idPrefix,
  legend,
  hint,
  groups,
  selected,
  onChange,
  presets = false,
}: {
  idPrefix: string;
  legend: string;
  hint?: string;
  groups: ScopeGroup[];
  selected: Set<string>;
  onChange(next: Set<string>): void;
  presets?: boolean;
}) {
  const toggleGroup = (group: ScopeGroup, on: boolean) => {
    const next = new Set(selected);
    for (const s of group.scopes) if (!s.unavailable) on ? next.add(s.name) : next.delete(s.name);
    onChange(next);
  };
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
      {groups.map((g, gi) => {
        const offered = g.scopes.filter((s) => !s.unavailable);
        const reads = offered.filter((s) => s.name.endsWith(':read'));
        const readOnly = readOnlyOf(g, selected);
        const isReadOnly = readOnly.size === selected.size && [...readOnly].every((s) => selected.has(s));
        return (
        <div class="scope-group" key={g.name} role="group" aria-label={g.name}>
          <div class="scope-group-head">
            <GroupCheckbox name={g.name} selected={offered.filter((s) => selected.has(s.name)).length} total={offered.length} disabled={!offered.length} onToggle={(all) => toggleGroup(g, all)} />
            <span class="scope-count">
              {g.scopes.filter((s) => selected.has(s.name)).length} of {g.scopes.length} selected
              {presets && reads.length > 0 && (
                <>
                  {' '}
                  <Button variant="ghost" aria-label={`Read-only access to ${g.name}`} onClick={() => onChange(readOnly)} disabled={isReadOnly}>
                    Read-only
                  </Button>
                </>
              )}
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
        );
      })}
    </fieldset>
  );
}
