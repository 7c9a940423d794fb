import type { ClientType } from './types.js';

export const TYPE_LABELS: Record<ClientType, string> = {
  web: 'Web app',
  spa: 'Single-page app',
  native: 'Native app',
  service: 'Service',
};

export const TYPE_HINTS: Record<ClientType, string> = {
  service: 'A back end or job calling your APIs as itself (client credentials). Gets a secret.',
  web: 'A server-side app that signs people in and keeps a secret on its server.',
  spa: 'A browser app that signs people in. No secret: it uses PKCE.',
  native: 'A mobile or desktop app that signs people in. No secret: it uses PKCE.',
};

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export const formatDate = (iso: string | null | undefined) => (iso ? dateFormat.format(new Date(iso)) : '—');
export const formatDateTime = (iso: string | null | undefined) => (iso ? dateTimeFormat.format(new Date(iso)) : '—');

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86400],
  ['month', 30 * 86400],
  ['week', 7 * 86400],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
];

/** "3 days ago", "in 2 hours", "just now". */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.trunc(seconds / size), unit);
  }
  return seconds < 0 ? 'just now' : 'in less than a minute';
}

/** Splits a space-delimited scope string into API scopes (those with a colon). */
export const apiScopesOf = (scope: string) => scope.split(' ').filter((s) => s.includes(':'));

/** "orders:read, orders:write +3" */
export function scopeSummary(scopes: string[], shown = 2): string {
  if (!scopes.length) return 'No scopes';
  const head = scopes.slice(0, shown).join(', ');
  return scopes.length > shown ? `${head} +${scopes.length - shown}` : head;
}

/** Durations people pick for credentials and keys, as the API's expires_in. */
export const EXPIRY_CHOICES: { label: string; value: string | null }[] = [
  { label: 'Never', value: null },
  { label: '30 days', value: '30d' },
  { label: '90 days', value: '90d' },
  { label: '1 year', value: '365d' },
];

/** A textarea's lines, trimmed, without empty ones: redirect URIs, IP allowlists. */
export const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
