import { Badge } from '../components/ui.js';
import { Link } from '../router.js';
import type { AuditEvent } from '../types.js';

type Named = AuditEvent['actor'] | NonNullable<AuditEvent['target']>;
type Display = AuditEvent['actor_display'];

/** What each kind of object is called, and where its page is (users: the list, searched for them). */
const KINDS: Record<string, { noun: string; href?: (id: string, email: string | null) => string }> = {
  user: { noun: 'User', href: (_id, email) => `/console/users${email ? `?q=${encodeURIComponent(email)}` : ''}` },
  client: { noun: 'Credential', href: (id) => `/console/credentials/${encodeURIComponent(id)}` },
  api_key: { noun: 'API key', href: (id) => `/console/api-keys/${encodeURIComponent(id)}` },
  api: { noun: 'API', href: () => '/console/apis' },
  role: { noun: 'Role', href: () => '/console/roles' },
  webhook: { noun: 'Webhook', href: () => '/console/webhooks' },
  signing_key: { noun: 'Signing key' },
  ssf_stream: { noun: 'Event stream', href: () => '/console/resource-servers' },
  system: { noun: 'System' },
  anonymous: { noun: 'Anonymous' },
};

/**
 * An actor or target as a person reads it: the user's name and email, the credential's or key's
 * name, linking to its page; a deleted one says so and keeps what the log recorded. The id is kept
 * in the tooltip and, when nothing better is known (or the caller may not read names), shown itself.
 */
export function Who({ who, display: d }: { who: Named; display: Display }) {
  const kind = KINDS[who.type] ?? { noun: who.type };
  const label = d?.name || d?.email;
  if (!label && !d?.deleted) {
    return (
      <>
        {kind.noun}
        {who.id && <code class="sub id">{who.id}</code>}
      </>
    );
  }
  const second = d?.name && d.email ? d.email : undefined;
  const title = `${kind.noun} ${who.id ?? ''}`.trim();
  return (
    <span class="who" title={title}>
      <span class="who-kind">{kind.noun}</span>{' '}
      {d?.deleted ? (
        <>
          {label ? <span class="who-name">{label}</span> : <code class="id">{who.id}</code>} <Badge>deleted</Badge>
        </>
      ) : kind.href && who.id ? (
        <Link href={kind.href(who.id, d?.email ?? null)} class="who-name">
          {label}
        </Link>
      ) : (
        <span class="who-name">{label}</span>
      )}
      {second && <span class="sub">{second}</span>}
    </span>
  );
}
