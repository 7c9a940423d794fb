import {
  generateAuthenticationOptions, generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse,
  type AuthenticationResponseJSON, type AuthenticatorTransport, type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { Database, Queryable } from '../db/database.js';
import type { SignedValues } from '../crypto/signed-values.js';
import { deletePasskey, findPasskeyByCredentialId, insertPasskey, passkeysOfUser, recordPasskeyUse, renamePasskey as renameRow } from '../store/passkeys.js';
import { recordAudit, type Actor } from './audit.js';

/**
 * Passkeys (WebAuthn Level 3) through @simplewebauthn/server. The relying party is the issuer: its
 * host is the RP id and its origin the only origin accepted (WebAuthn §5.1.4.1, §7.1 step 9).
 * Challenges are signed values (crypto/signed-values.ts) bound to one interaction or one session
 * and valid five minutes, so nothing is stored between the options and the answer.
 */
const CHALLENGE_TTL = 300;

export const passkeyName = z.string().trim().min(1, 'give the passkey a name').max(100);

export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
  /**
   * WebAuthn takes a domain as RP id, never an IP address (WebAuthn §5.1.3 step 8, "valid domain"):
   * with ISSUER at an address, passkeys are not offered at all rather than offered and failing.
   */
  available: boolean;
}

export const relyingPartyOf = (issuer: string): RelyingParty => {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name: `Gatehouse (${url.host})`, available: isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 };
};

/** The challenge WebAuthn echoes back is ours if signing-values opens it for this purpose and binding. */
function challengeCheck(signer: SignedValues, purpose: string, binding: string) {
  return (challenge: string) => signer.open(purpose, binding, Buffer.from(challenge, 'base64url').toString('utf8')) !== undefined;
}

const transportsOf = (t: string[]) => t as AuthenticatorTransport[];

/** SimpleWebAuthn throws on a malformed answer: refused, like an answer that does not verify. */
async function refusedOnError<T>(verify: () => Promise<T>): Promise<T | undefined> {
  try {
    return await verify();
  } catch {
    return undefined;
  }
}

/** The browser's answer, posted as JSON in the form's `response` field; undefined if it is not JSON. */
export function passkeyAnswer(form: Map<string, string>): unknown {
  try {
    return JSON.parse(form.get('response') ?? '');
  } catch {
    return undefined;
  }
}

export async function registrationOptions(db: Queryable, signer: SignedValues, rp: RelyingParty, user: { id: string; email: string; name: string }, binding: string) {
  const existing = await passkeysOfUser(db, user.id);
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    // The user handle is the account id (not personal data); a discoverable passkey returns it.
    userID: new TextEncoder().encode(user.id),
    challenge: signer.issue('passkey-register', binding, user.id, CHALLENGE_TTL),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })),
    // Discoverable, so the same passkey can also be a first factor ("Sign in with a passkey").
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  });
}

/** Verifies a new passkey's attestation and stores it under its name; audited. undefined if refused. */
export async function registerPasskey(db: Database, signer: SignedValues, rp: RelyingParty, userId: string, binding: string, response: unknown, name: string, actor: Actor) {
  const verified = await refusedOnError(() =>
    verifyRegistrationResponse({
      response: response as RegistrationResponseJSON,
      expectedChallenge: challengeCheck(signer, 'passkey-register', binding),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    }),
  );
  if (!verified?.verified) return undefined;
  const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
  return db.transaction(async (tx) => {
    const id = await insertPasskey(tx, {
      userId,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      deviceType: credentialDeviceType,
      backedUp: credentialBackedUp,
      name,
    });
    if (!id) return undefined;
    await recordAudit(tx, { type: 'user.passkey_added', actor, target: { type: 'user', id: userId }, data: { passkey_id: id, name } });
    return id;
  });
}

/**
 * Options for a sign-in: with a user (the second step) only their passkeys are allowed; without one
 * (the first factor) the browser offers the discoverable passkeys it holds for this RP.
 */
export async function authenticationOptions(db: Queryable, signer: SignedValues, rp: RelyingParty, binding: string, userId?: string) {
  const allow = userId ? (await passkeysOfUser(db, userId)).map((p) => ({ id: p.credentialId, transports: transportsOf(p.transports) })) : undefined;
  return generateAuthenticationOptions({
    rpID: rp.id,
    challenge: signer.issue('passkey-sign-in', binding, userId ?? '', CHALLENGE_TTL),
    allowCredentials: allow,
    userVerification: userId ? 'preferred' : 'required',
  });
}

export interface PasskeySignIn {
  userId: string;
  /** RFC 8176: hwk for a key bound to one device, swk for a synced (software-held) one. */
  method: 'hwk' | 'swk';
  /** The authenticator verified the person (PIN or biometric): a second factor in itself. */
  userVerified: boolean;
}

/**
 * Checks a sign-in answer: the passkey must be registered (to `userId`, when given), its signature
 * good over our challenge, and its counter must move forward. undefined when any of it fails.
 */
export async function verifyPasskey(db: Queryable, signer: SignedValues, rp: RelyingParty, binding: string, response: unknown, userId?: string): Promise<PasskeySignIn | undefined> {
  const id = (response as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id.length > 1024) return undefined;
  const passkey = await findPasskeyByCredentialId(db, id);
  if (!passkey || (userId && passkey.userId !== userId)) return undefined;
  const verified = await refusedOnError(() =>
    verifyAuthenticationResponse({
      response: response as AuthenticationResponseJSON,
      expectedChallenge: challengeCheck(signer, 'passkey-sign-in', binding),
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(Buffer.from(passkey.publicKey, 'base64url')), counter: passkey.counter, transports: transportsOf(passkey.transports) },
      // As a first factor the passkey stands for the password too: the person must be verified.
      requireUserVerification: !userId,
    }),
  );
  if (!verified?.verified) return undefined;
  const { newCounter, userVerified, credentialDeviceType } = verified.authenticationInfo;
  if (!(await recordPasskeyUse(db, passkey.id, newCounter))) return undefined;
  return { userId: passkey.userId, method: credentialDeviceType === 'singleDevice' ? 'hwk' : 'swk', userVerified };
}

export async function renamePasskey(db: Database, userId: string, id: string, name: string, actor: Actor): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await renameRow(tx, userId, id, name))) return false;
    await recordAudit(tx, { type: 'user.passkey_renamed', actor, target: { type: 'user', id: userId }, data: { passkey_id: id, name } });
    return true;
  });
}

export async function removePasskey(db: Database, userId: string, id: string, actor: Actor): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await deletePasskey(tx, userId, id))) return false;
    await recordAudit(tx, { type: 'user.passkey_removed', actor, target: { type: 'user', id: userId }, data: { passkey_id: id } });
    return true;
  });
}

export { passkeysOfUser };
