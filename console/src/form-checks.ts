import type { ApiError } from './api.js';

/**
 * Forms check in the browser what the server would refuse, and say all of it at once, each message
 * under its field. The server stays the judge: what only it can tell (a common password, a taken
 * email) comes back in its 400 or 409 and is put under the same fields.
 */

/** Problems by field name (the request's top-level member: redirect_uris, not redirect_uris.0). */
export type Problems = Record<string, string>;

const EXAMPLE_URL = 'https://app.example.com/callback';

/** Why a redirect URI would be refused (RFC 6749 §3.1.2: absolute, no fragment), or undefined. */
export function redirectProblem(uri: string): string | undefined {
  const value = uri.trim();
  if (!value) return `Enter the address to send people back to, e.g. ${EXAMPLE_URL}.`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `“${value}” is not a full URL. Enter one like ${EXAMPLE_URL}.`;
  }
  if (value.includes('#')) return 'A redirect URI cannot have a fragment (the part after #).';
  if (!url.protocol) return `Enter a full URL, e.g. ${EXAMPLE_URL}.`;
  return undefined;
}

export const emailProblem = (email: string) =>
  !email.trim() ? 'Enter their email address.' : /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()) ? undefined : `“${email.trim()}” is not an email address, e.g. ada@example.com.`;

/** Length only: the list of common passwords stays on the server, whose answer lands under the field too. */
export const passwordProblem = (password: string, min: number) =>
  password && [...password].length < min ? `Use at least ${min} characters; this one has ${[...password].length}.` : undefined;

/** Messages the server's schemas use, in the console's words. */
const WORDS: [RegExp, string][] = [
  [/^Invalid URL$/i, `Enter a full URL, e.g. ${EXAMPLE_URL}.`],
  [/^Invalid email address$/i, 'Enter an email address, e.g. ada@example.com.'],
  [/^Too small: expected string to have >=1 characters$/i, 'This cannot be empty.'],
];

/** A server message in words: no field path in front, a capital, a full stop. */
export function inWords(message: string, field?: string): string {
  let text = field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message;
  text = text.replace(/^[a-z_]+(\.\d+)?: /, '');
  for (const [pattern, words] of WORDS) if (pattern.test(text)) return words;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The server's refusal as problems by field: every one it lists, else the one it names. */
export function serverProblems(error: ApiError | undefined): Problems {
  if (!error) return {};
  const listed = error.problems.length ? error.problems : error.field ? [{ field: error.field, message: error.message }] : [];
  const out: Problems = {};
  for (const p of listed) {
    if (!p.field) continue;
    const top = p.field.split('.')[0]!;
    out[top] ??= inWords(p.message, p.field);
  }
  return out;
}

/** The refusal when it is about none of `shown` (those go under their fields): for a notice. */
export function otherError(error: ApiError | undefined, shown: readonly string[]): ApiError | undefined {
  if (!error) return undefined;
  const fields = Object.keys(serverProblems(error));
  return fields.length && fields.every((f) => shown.includes(f)) ? undefined : error;
}

/** Drops the fields without a problem. */
export const compact = (p: Record<string, string | undefined>): Problems => Object.fromEntries(Object.entries(p).filter(([, v]) => v)) as Problems;
