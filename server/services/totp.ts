import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { Database, Queryable } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import { acceptTotpStep, deleteTotp, findTotp, insertPendingTotp } from '../store/totp.js';
import { deleteRecoveryCodes } from '../store/recovery-codes.js';
import { newRecoveryCodes } from './recovery-codes.js';
import { recordAudit, type Actor } from './audit.js';
import { conflict } from './errors.js';

/** RFC 6238 §4, §5.2: 30-second steps, 6 digits, HMAC-SHA-1 (what every authenticator app reads). */
const PERIOD = 30;
/** One step either side, for clocks a little apart (RFC 6238 §5.2 advises at most one). */
const WINDOW = 1;

/** The sealed secret is bound to its user: copied onto another row it does not open. */
const aad = (userId: string) => `totp:${userId}`;

function totpFor(secretBase32: string, issuerHost: string, email: string): TOTP {
  return new TOTP({ issuer: `Gatehouse (${issuerHost})`, label: email, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secretBase32) });
}

export interface TotpEnrolment {
  /** The secret in base32, for typing in by hand. */
  secret: string;
  /** The otpauth:// URI (the QR code's content). */
  uri: string;
  /** The QR code as an SVG data URL, made here: no external service sees the secret. */
  qr: string;
}

/**
 * Starts an enrolment, or shows the one under way again (a reload, a mistyped code): a 160-bit
 * secret (RFC 4226 §4), sealed at rest and unconfirmed until its first code is entered. Refused
 * (409) while a confirmed authenticator is in place.
 */
export async function startTotpEnrolment(db: Queryable, sealer: Sealer, issuer: string, user: { id: string; email: string }): Promise<TotpEnrolment> {
  const row = await insertPendingTotp(db, user.id, sealer.seal(new Secret({ size: 20 }).base32, aad(user.id)));
  if (row.confirmedAt) throw conflict('an authenticator app is already set up; remove it first');
  const secret = sealer.open(row.secretSealed, aad(user.id));
  const uri = totpFor(secret, new URL(issuer).host, user.email).toString();
  const qr = `data:image/svg+xml;base64,${Buffer.from(await QRCode.toString(uri, { type: 'svg', margin: 1 })).toString('base64')}`;
  return { secret, uri, qr };
}

/** The time step a code belongs to, if it is right within the window; undefined otherwise. */
function stepOf(secretBase32: string, code: string): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = TOTP.validate({ token, secret: Secret.fromBase32(secretBase32), algorithm: 'SHA1', digits: 6, period: PERIOD, window: WINDOW });
  return delta === null ? undefined : Math.floor(Date.now() / 1000 / PERIOD) + delta;
}

/**
 * Checks a code against the user's authenticator (confirmed, or pending when `confirming`) and
 * spends its time step: the same code, or an older one, is refused afterwards (RFC 6238 §5.2).
 */
async function spendCode(db: Queryable, sealer: Sealer, userId: string, code: string, confirming: boolean): Promise<boolean> {
  const row = await findTotp(db, userId);
  if (!row || Boolean(row.confirmedAt) === confirming) return false;
  const step = stepOf(sealer.open(row.secretSealed, aad(userId)), code);
  return step !== undefined && acceptTotpStep(db, userId, step, confirming);
}

/** A sign-in's code: true once per time step for the right code. */
export function verifyTotp(db: Queryable, sealer: Sealer, userId: string, code: string): Promise<boolean> {
  return spendCode(db, sealer, userId, code, false);
}

/**
 * Ends an enrolment with its first code and hands out ten new recovery codes (shown once), all in
 * one transaction with its audit event. undefined when the code is wrong.
 */
export async function confirmTotp(db: Database, sealer: Sealer, userId: string, code: string, actor: Actor): Promise<string[] | undefined> {
  return db.transaction(async (tx) => {
    if (!(await spendCode(tx, sealer, userId, code, true))) return undefined;
    const codes = await newRecoveryCodes(tx, userId);
    await recordAudit(tx, { type: 'user.totp_enrolled', actor, target: { type: 'user', id: userId } });
    return codes;
  });
}

export async function hasTotp(db: Queryable, userId: string): Promise<boolean> {
  return Boolean((await findTotp(db, userId))?.confirmedAt);
}

/** Removes the person's authenticator and their recovery codes (which belong to it). */
export async function removeTotp(db: Database, userId: string, actor: Actor): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await deleteTotp(tx, userId))) return false;
    await deleteRecoveryCodes(tx, userId);
    await recordAudit(tx, { type: 'user.totp_removed', actor, target: { type: 'user', id: userId } });
    return true;
  });
}

