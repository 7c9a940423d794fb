import type { Queryable } from '../db/database.js';
import { isOidcScope } from './scope-names.js';
import { findApisByScopes } from '../store/apis.js';
import { invalidRequest } from './errors.js';

/**
 * Every non-identity scope must be defined by a registered API: an unknown one is refused, naming
 * it, rather than stored and silently never granted.
 */
export async function checkApiScopes(q: Queryable, scopes: readonly string[], field: string): Promise<void> {
  const apiScopes = scopes.filter((s) => !isOidcScope(s));
  const defined = new Set((await findApisByScopes(q, apiScopes)).flatMap((a) => a.scopes.map((s) => s.name)));
  const unknown = apiScopes.find((s) => !defined.has(s));
  if (unknown) throw invalidRequest(`${field}: ${unknown} is not a scope of any registered API`, field);
}
