import { accessToken, managementApi, renew } from './auth.js';
import type { ErrorBody } from './types.js';

/** A failed Management API call, with the words to show for it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The permission a 403 insufficient_scope names (RFC 6750 §3.1). */
    readonly scope?: string,
    /** The request field a 400 names. */
    readonly field?: string,
    /** Every problem a 400 lists, each with its field (a path such as redirect_uris.0). */
    readonly problems: { field?: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function describe(status: number, body: Partial<ErrorBody>): string {
  if (status === 403 && body.error === 'insufficient_scope' && body.scope) {
    return `You need the ${body.scope} permission to do this. Ask an administrator for a role that includes it.`;
  }
  if (status === 503) return 'The server is temporarily unavailable. Try again in a moment.';
  if (status >= 500) return `The server could not complete this (${status}). Try again; if it keeps failing, check the server's log.`;
  return body.error_description || body.error || `The request failed (${status}).`;
}

async function send(method: string, path: string, body: unknown, token: string): Promise<Response> {
  return fetch(`${managementApi()}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Calls /api/v1 as the signed-in user; a 401 renews the token once and retries. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await send(method, path, body, await accessToken());
    if (res.status === 401) {
      await renew();
      res = await send(method, path, body, await accessToken());
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, parsed?.error ?? 'error', describe(res.status, parsed ?? {}), parsed?.scope, parsed?.field, Array.isArray(parsed?.errors) ? parsed.errors : []);
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  post: <T>(path: string, body: unknown = {}) => call<T>('POST', path, body),
  patch: <T>(path: string, body: unknown) => call<T>('PATCH', path, body),
  delete: (path: string) => call<void>('DELETE', path),
};

/** Builds a query string from the values that are set. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}
