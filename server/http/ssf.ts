import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { KeyRing } from '../services/keyring.js';
import type { HotReads } from '../store/cache.js';
import { insufficientScope, invalidToken } from '../services/errors.js';
import { readJson, validate } from '../management/body.js';
import { SSF_SCOPE, holdsStreamScope, ssfApiIdentifier } from '../services/ssf/api.js';
import {
  POLL, PUSH, changeStatus, createStream, listStreams, removeStream, replaceStream, requestVerification, ssfPaths, statusInputSchema,
  statusView, streamInputSchema, streamOf, streamView, verificationInputSchema,
} from '../services/ssf/streams.js';
import type { Transmitter } from '../services/ssf/transmitter.js';
import { invalidRequest } from '../services/errors.js';

export interface SsfDeps {
  db: Database;
  issuer: string;
  keys: KeyRing;
  sealer: Sealer;
  reads: HotReads;
  transmitter: Transmitter;
}

/** SSF 1.0 §7.1 transmitter configuration metadata. */
export function ssfConfiguration(issuer: string) {
  const paths = ssfPaths(issuer);
  return {
    spec_version: '1_0',
    issuer,
    jwks_uri: `${issuer}/oauth/jwks`,
    delivery_methods_supported: [PUSH, POLL],
    configuration_endpoint: paths.configuration,
    status_endpoint: paths.status,
    verification_endpoint: paths.verification,
    // SSF 1.0 §7.1.1: receivers authenticate with an OAuth 2.0 access token (client credentials, scope ssf:stream).
    authorization_schemes: [{ spec_urn: 'urn:ietf:rfc:6749' }],
    // Every stream receives events about every subject: there are no subjects to add or remove.
    default_subjects: 'ALL',
  };
}

/**
 * The receiver: a client holding a token for the Shared Signals API with ssf:stream (RFC 6750),
 * verified offline, and the client still enabled and holding ssf:stream now (a suspended receiver,
 * or one whose scope was taken away, stops at once).
 */
async function receiverOf(ctx: Context, deps: SsfDeps): Promise<string> {
  const m = /^Bearer ([\x21-\x7e]+)$/i.exec(ctx.get('authorization'));
  if (!m) throw invalidToken('send a client-credentials access token for the Shared Signals API as a Bearer token');
  let payload;
  try {
    payload = await deps.keys.verifyAccessToken(m[1], { issuer: deps.issuer, audience: ssfApiIdentifier(deps.issuer) });
  } catch {
    throw invalidToken();
  }
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : undefined;
  if (!clientId || payload.sub !== clientId) throw invalidToken('a receiver authenticates with its own client-credentials token');
  if (!String(payload.scope ?? '').split(' ').includes(SSF_SCOPE)) throw insufficientScope(SSF_SCOPE);
  const client = await deps.reads.findClient(clientId);
  if (!client?.enabled || (client.expiresAt && client.expiresAt.getTime() <= Date.now())) throw invalidToken('the client is not active');
  if (!(await holdsStreamScope(deps.db, client))) throw insufficientScope(SSF_SCOPE);
  return clientId;
}

/** RFC 8936 §2.4 poll request. */
const pollSchema = z.looseObject({
  ack: z.array(z.string().max(300)).max(1000).default([]),
  setErrs: z.record(z.string(), z.unknown()).optional(),
  maxEvents: z.number().int().min(0).max(1000).default(100),
  returnImmediately: z.boolean().default(false),
});

const streamIdQuery = z.looseObject({ stream_id: z.string().max(100).optional() });

export function ssfRoutes(deps: SsfDeps): Router {
  const router = new Router();
  const noStore = (ctx: Context) => ctx.set('Cache-Control', 'no-store');

  router.get('/.well-known/ssf-configuration', (ctx) => {
    ctx.body = ssfConfiguration(deps.issuer);
  });

  // SSF 1.0 §8.1.1: create, read, update, replace, delete.
  router.post('/ssf/streams', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    ctx.status = 201;
    ctx.body = await createStream(deps, clientId, await readJson(ctx, streamInputSchema));
  });
  router.get('/ssf/streams', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    noStore(ctx);
    const { stream_id } = validate(streamIdQuery, ctx.query);
    ctx.body = stream_id === undefined ? await listStreams(deps, clientId) : streamView(deps, await streamOf(deps.db, clientId, stream_id));
  });
  for (const method of ['patch', 'put'] as const) {
    router[method]('/ssf/streams', async (ctx) => {
      const clientId = await receiverOf(ctx, deps);
      const body = await readJson(ctx, streamInputSchema.extend({ stream_id: z.string().max(100) }));
      ctx.body = await replaceStream(deps, clientId, body.stream_id, body, method === 'patch');
    });
  }
  router.delete('/ssf/streams', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    await removeStream(deps, clientId, validate(streamIdQuery, ctx.query).stream_id);
    ctx.status = 204;
  });

  // SSF 1.0 §8.1.2 stream status.
  router.get('/ssf/status', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    noStore(ctx);
    ctx.body = statusView(await streamOf(deps.db, clientId, validate(streamIdQuery, ctx.query).stream_id));
  });
  router.post('/ssf/status', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    ctx.body = await changeStatus(deps, clientId, await readJson(ctx, statusInputSchema));
  });

  // SSF 1.0 §8.1.4.2 verification.
  router.post('/ssf/verify', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    await requestVerification(deps, clientId, await readJson(ctx, verificationInputSchema));
    ctx.status = 204;
  });

  // RFC 8936 poll delivery.
  router.post('/ssf/poll/:streamId', async (ctx) => {
    const clientId = await receiverOf(ctx, deps);
    const stream = await streamOf(deps.db, clientId, ctx.params.streamId);
    if (stream.delivery_method !== POLL) throw invalidRequest('this stream is delivered by push (RFC 8935), not poll');
    const body = await readJson(ctx, pollSchema);
    noStore(ctx);
    ctx.body = await deps.transmitter.poll(stream, { ack: body.ack, maxEvents: body.maxEvents, returnImmediately: body.returnImmediately });
  });
  return router;
}
