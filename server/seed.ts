import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Database } from './db/database.js';
import { hashPassword, verifyPassword } from './crypto/passwords.js';
import { digest } from './crypto/tokens.js';
import { upsertApi } from './store/apis.js';
import { addClientSecret, deleteClientSecrets, findClient, upsertClient } from './store/clients.js';
import { findUserByEmail, upsertUserByEmail } from './store/users.js';
import { isOidcScope } from './oidc/scopes.js';

const scopeName = z.string().regex(/^[\w.-]+:[\w.*-]+$/, 'scopes are named resource:action, e.g. orders:read');

const apiSchema = z.object({
  identifier: z.url(),
  name: z.string().min(1).max(200),
  scopes: z.array(z.union([scopeName, z.object({ name: scopeName, description: z.string().max(300).optional() })])),
  access_token_ttl: z.number().int().min(60).max(3600).optional(),
  signing_alg: z.enum(['RS256', 'PS256', 'ES256']).optional(),
});

const userSchema = z.object({
  email: z.email(),
  name: z.string().min(1).max(200),
  password: z.string().min(8, 'passwords need at least 8 characters').max(1024),
});

const redirectUri = z.url().refine((u) => !new URL(u).hash, 'redirect URIs must not have a fragment (RFC 6749 §3.1.2)');

const clientSchema = z
  .object({
    client_id: z.string().regex(/^[\w.:-]{3,128}$/, 'client_id: 3-128 letters, digits, _ . : -'),
    client_secret: z.string().min(16, 'client secrets need at least 16 characters').optional(),
    client_name: z.string().min(1).max(200).optional(),
    grant_types: z.array(z.enum(['authorization_code', 'refresh_token', 'client_credentials'])).min(1),
    redirect_uris: z.array(redirectUri).default([]),
    post_logout_redirect_uris: z.array(redirectUri).optional(),
    scope: z.string().optional(),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
    application_type: z.enum(['web', 'native']).optional(),
  })
  .superRefine((c, ctx) => {
    const isPublic = c.token_endpoint_auth_method === 'none';
    if (isPublic && c.client_secret) ctx.addIssue({ code: 'custom', message: 'a public client (token_endpoint_auth_method "none") has no secret', path: ['client_secret'] });
    if (!isPublic && !c.client_secret) ctx.addIssue({ code: 'custom', message: 'a confidential client needs a client_secret', path: ['client_secret'] });
    if (isPublic && c.grant_types.includes('client_credentials')) ctx.addIssue({ code: 'custom', message: 'client_credentials needs a confidential client', path: ['grant_types'] });
    if (c.grant_types.includes('authorization_code') && !c.redirect_uris.length) ctx.addIssue({ code: 'custom', message: 'authorization_code needs at least one redirect URI', path: ['redirect_uris'] });
  });

export const seedSchema = z.object({
  apis: z.array(apiSchema).default([]),
  users: z.array(userSchema).default([]),
  clients: z.array(clientSchema).default([]),
});

export type Seed = z.infer<typeof seedSchema>;

export function readSeedFile(path: string): Seed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`SEED_FILE ${path}: ${(err as Error).message}`);
  }
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`SEED_FILE ${path} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Applies a seed idempotently: APIs by identifier, users by email, clients by client_id are created
 * or updated, never duplicated. A seeded secret replaces the client's other secrets.
 */
export async function applySeed(db: Database, seed: Seed): Promise<{ apis: number; users: number; clients: number }> {
  // Passwords are hashed before the transaction: argon2 is slow on purpose.
  const users = await Promise.all(
    seed.users.map(async (u) => {
      const existing = await findUserByEmail(db, u.email);
      const same = existing && (await verifyPassword(existing.passwordHash, u.password));
      return { ...u, passwordHash: same ? existing.passwordHash : await hashPassword(u.password) };
    }),
  );
  await db.transaction(async (tx) => {
    for (const api of seed.apis) {
      await upsertApi(tx, {
        identifier: api.identifier,
        name: api.name,
        scopes: api.scopes.map((s) => (typeof s === 'string' ? { name: s } : s)),
        accessTokenTtl: api.access_token_ttl,
        signingAlg: api.signing_alg,
      });
    }
    for (const u of users) await upsertUserByEmail(tx, u);
    for (const { client_id, client_secret, ...metadata } of seed.clients) {
      const scopes = (metadata.scope ?? '').split(' ').filter(Boolean);
      if (!metadata.grant_types.includes('authorization_code') && scopes.some(isOidcScope)) {
        throw new Error(`SEED_FILE: client ${client_id} cannot have identity scopes without authorization_code`);
      }
      await upsertClient(tx, client_id, metadata);
      if (client_secret) {
        const hash = digest(client_secret);
        const current = await findClient(tx, client_id);
        await deleteClientSecrets(tx, client_id, hash);
        if (!current?.secrets.some((s) => s.hash === hash)) {
          await addClientSecret(tx, client_id, { hash, hint: client_secret.slice(0, 4) });
        }
      } else {
        await deleteClientSecrets(tx, client_id);
      }
    }
  });
  return { apis: seed.apis.length, users: users.length, clients: seed.clients.length };
}
