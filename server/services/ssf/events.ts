import type { Queryable } from '../../db/database.js';
import { appendSsfEvent } from '../../store/ssf.js';
import { ACCESS_TOKEN_TTL } from '../limits.js';

/** Event type URIs (CAEP 1.0 §3, RISC 1.0 §2, SSF 1.0 §8.1.4). */
export const EVENT_TYPES = {
  sessionRevoked: 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  credentialChange: 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  accountDisabled: 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  accountPurged: 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
} as const;

/** What a receiver may ask for in events_requested (verification events always come). */
export const EVENTS_SUPPORTED = [EVENT_TYPES.sessionRevoked, EVENT_TYPES.credentialChange, EVENT_TYPES.accountDisabled, EVENT_TYPES.accountPurged];

/** Access tokens never outlive this (server/oidc/provider.ts, token-exchange.ts). */
export const MAX_ACCESS_TOKEN_TTL = ACCESS_TOKEN_TTL.max;

/**
 * Events are kept a day: far longer than the longest access token lives (3600 s,
 * server/oidc/provider.ts), which is as long as any event can matter to a resource server, so a
 * receiver away for less than a day misses nothing.
 */
export const RETENTION_SECONDS = 24 * 3600;

/**
 * What an event is about, in the terms access tokens use, so a resource server can match tokens:
 * user = `sub`, client = `client_id`, grant = `grant_id`, apiKey = `api_key_id` (README, "Access-token claims").
 */
export interface Subject {
  user?: string;
  client?: string;
  grant?: string;
  apiKey?: string;
}

const opaque = (id: string) => ({ format: 'opaque', id });

/**
 * SSF 1.0 §3.2 complex subject with opaque members: `user`, `application` (the client), `session`
 * (the grant: a session's tokens all belong to one grant per client) and, our own member, `api_key`.
 */
export function subjectIdentifier(s: Subject): Record<string, unknown> {
  return {
    format: 'complex',
    ...(s.user && { user: opaque(s.user) }),
    ...(s.client && { application: opaque(s.client) }),
    ...(s.grant && { session: opaque(s.grant) }),
    ...(s.apiKey && { api_key: opaque(s.apiKey) }),
  };
}

type Initiator = 'admin' | 'user' | 'policy' | 'system';

/**
 * Appends a security event to the outbox in the caller's transaction: it is delivered if and only if
 * the change commits. event_timestamp is when it happened (CAEP 1.0 §2): receivers refuse tokens of
 * the subject issued up to then.
 */
export async function recordSecurityEvent(
  q: Queryable,
  type: (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES],
  subject: Subject,
  initiatingEntity: Initiator,
  reason: string,
  members: Record<string, unknown> = {},
): Promise<void> {
  await appendSsfEvent(q, {
    eventType: type,
    subId: subjectIdentifier(subject),
    event: { event_timestamp: Math.floor(Date.now() / 1000), initiating_entity: initiatingEntity, reason_admin: { en: reason }, ...members },
    retentionSeconds: RETENTION_SECONDS,
  });
}

/** Why endUserAccess ran, as the event that tells resource servers. */
export type UserAccessEnd = 'deactivated' | 'deleted' | 'password_changed';

export function recordUserAccessEnd(q: Queryable, userId: string, why: UserAccessEnd, initiator: Initiator): Promise<void> {
  const subject = { user: userId };
  switch (why) {
    case 'deactivated':
      return recordSecurityEvent(q, EVENT_TYPES.accountDisabled, subject, initiator, 'the user was deactivated');
    case 'deleted':
      return recordSecurityEvent(q, EVENT_TYPES.accountPurged, subject, initiator, 'the user was deleted');
    case 'password_changed':
      return recordSecurityEvent(q, EVENT_TYPES.credentialChange, subject, initiator, 'the password changed', {
        credential_type: 'password',
        change_type: 'update',
      });
  }
}

/** A client suspended or revoked: every token issued to it is void. */
export function recordClientAccessEnd(q: Queryable, clientId: string, why: 'suspended' | 'revoked', initiator: Initiator): Promise<void> {
  return recordSecurityEvent(q, EVENT_TYPES.sessionRevoked, { client: clientId }, initiator, `the client was ${why}`);
}

/** An API key revoked or disabled: every token exchanged for it is void. */
export function recordApiKeyAccessEnd(q: Queryable, keyId: string, userId: string, why: 'revoked' | 'disabled', initiator: Initiator): Promise<void> {
  return recordSecurityEvent(q, EVENT_TYPES.credentialChange, { apiKey: keyId, user: userId }, initiator, `the API key was ${why}`, {
    credential_type: 'api_key',
    change_type: why === 'revoked' ? 'delete' : 'revoke',
  });
}

/** A grant revoked (logout, RFC 7009 revocation, refresh-token reuse): every token of it is void. */
export function recordGrantRevoked(q: Queryable, grantId: string, subject: Omit<Subject, 'grant'>, reason: string): Promise<void> {
  return recordSecurityEvent(q, EVENT_TYPES.sessionRevoked, { ...subject, grant: grantId }, 'system', reason);
}

/** Who initiated a change, in CAEP's terms, from the audit actor. */
export const initiatorOf = (actor: { type: string }): Initiator => (actor.type === 'system' ? 'system' : 'admin');
