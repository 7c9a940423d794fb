import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../../db/database.js';
import type { Sealer } from '../../crypto/seal.js';
import {
  type StreamRow, deleteStreamRow, findStream, insertStream, listStreamsOf, setStreamStatus, streamBacklog, updateStreamRow,
} from '../../store/ssf.js';
import { isUuid } from '../../store/ids.js';
import { recordAudit } from '../audit.js';
import { invalidRequest, notFound } from '../errors.js';
import { appendSsfEvent } from '../../store/ssf.js';
import { EVENTS_SUPPORTED, EVENT_TYPES, MAX_ACCESS_TOKEN_TTL, RETENTION_SECONDS } from './events.js';

export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

export const ssfPaths = (issuer: string) => ({
  configuration: `${issuer}/ssf/streams`,
  status: `${issuer}/ssf/status`,
  verification: `${issuer}/ssf/verify`,
  poll: (streamId: string) => `${issuer}/ssf/poll/${streamId}`,
});

/** SSF 1.0 §8.1.1 stream configuration as a receiver sends it; transmitter-supplied members are ignored. */
export const streamInputSchema = z.looseObject({
  description: z.string().max(200).optional(),
  events_requested: z.array(z.string().max(200)).max(20).optional(),
  delivery: z
    .looseObject({
      method: z.enum([PUSH, POLL]),
      endpoint_url: z.url({ protocol: /^https?$/ }).max(2000).optional(),
      authorization_header: z.string().max(4000).optional(),
    })
    .optional(),
});
export type StreamInput = z.infer<typeof streamInputSchema>;

export const statusInputSchema = z.looseObject({
  stream_id: z.string(),
  status: z.enum(['enabled', 'paused', 'disabled']),
  reason: z.string().max(200).optional(),
});

export const verificationInputSchema = z.looseObject({
  stream_id: z.string(),
  state: z.string().max(200).optional(),
});

/** The receiver's Authorization header for its push endpoint, sealed to this stream's id. */
const sealAad = (streamId: string) => `ssf-stream:${streamId}`;

export interface StreamContext {
  db: Database;
  issuer: string;
  sealer: Sealer;
}

/** SSF 1.0 §8.1.1.1 stream configuration as the transmitter answers it; the push credential is never shown. */
export function streamView(ctx: Pick<StreamContext, 'issuer'>, r: StreamRow) {
  const delivered = r.events_requested.length ? EVENTS_SUPPORTED.filter((e) => r.events_requested.includes(e)) : EVENTS_SUPPORTED;
  return {
    stream_id: r.id,
    iss: ctx.issuer,
    aud: r.client_id,
    events_supported: EVENTS_SUPPORTED,
    events_requested: r.events_requested,
    events_delivered: delivered,
    delivery:
      r.delivery_method === PUSH
        ? { method: PUSH, endpoint_url: r.endpoint_url }
        : { method: POLL, endpoint_url: ssfPaths(ctx.issuer).poll(r.id) },
    ...(r.description ? { description: r.description } : {}),
    min_verification_interval: 0,
  };
}

function fieldsOf(ctx: StreamContext, id: string, input: StreamInput, before?: StreamRow) {
  const method = input.delivery?.method ?? before?.delivery_method ?? POLL;
  const requested = input.events_requested ?? before?.events_requested ?? [];
  const unknown = requested.find((e) => !EVENTS_SUPPORTED.includes(e as never));
  if (unknown) throw invalidRequest(`events_requested: ${unknown} is not an event this transmitter sends`, 'events_requested');
  let endpointUrl: string | null = null;
  let sealed: string | null = null;
  if (method === PUSH) {
    endpointUrl = input.delivery?.endpoint_url ?? before?.endpoint_url ?? null;
    if (!endpointUrl) throw invalidRequest('delivery.endpoint_url: push delivery (RFC 8935) needs the receiver’s endpoint', 'delivery.endpoint_url');
    const header = input.delivery?.authorization_header;
    sealed = header !== undefined ? ctx.sealer.seal(header, sealAad(id)) : input.delivery ? null : (before?.authorization_header_sealed ?? null);
  }
  return {
    description: input.description ?? before?.description ?? null,
    deliveryMethod: method,
    endpointUrl,
    authorizationHeaderSealed: sealed,
    eventsRequested: requested,
  };
}

export function authorizationHeaderOf(sealer: Sealer, r: StreamRow): string | undefined {
  return r.authorization_header_sealed ? sealer.open(r.authorization_header_sealed, sealAad(r.id)) : undefined;
}

/** A stream of this receiver, or 404 (another receiver's stream is not told apart from none). */
export async function streamOf(q: Queryable, clientId: string, streamId: unknown): Promise<StreamRow> {
  if (typeof streamId !== 'string' || !streamId) throw invalidRequest('stream_id is required', 'stream_id');
  const row = isUuid(streamId) ? await findStream(q, streamId) : undefined;
  if (!row || row.client_id !== clientId) throw notFound(`stream ${streamId}`);
  return row;
}

const actorOf = (clientId: string) => ({ type: 'client' as const, id: clientId });

export async function createStream(ctx: StreamContext, clientId: string, input: StreamInput) {
  const id = randomUUID();
  return ctx.db.transaction(async (tx) => {
    const row = await insertStream(tx, id, clientId, fieldsOf(ctx, id, input), MAX_ACCESS_TOKEN_TTL);
    await recordAudit(tx, { type: 'ssf_stream.created', actor: actorOf(clientId), target: { type: 'ssf_stream', id }, data: { delivery_method: row.delivery_method } });
    return streamView(ctx, row);
  });
}

export async function replaceStream(ctx: StreamContext, clientId: string, streamId: unknown, input: StreamInput, partial: boolean) {
  return ctx.db.transaction(async (tx) => {
    const before = await streamOf(tx, clientId, streamId);
    const row = await updateStreamRow(tx, before.id, fieldsOf(ctx, before.id, input, partial ? before : undefined));
    await recordAudit(tx, { type: 'ssf_stream.updated', actor: actorOf(clientId), target: { type: 'ssf_stream', id: before.id } });
    return streamView(ctx, row!);
  });
}

export async function removeStream(ctx: StreamContext, clientId: string, streamId: unknown) {
  await ctx.db.transaction(async (tx) => {
    const row = await streamOf(tx, clientId, streamId);
    await deleteStreamRow(tx, row.id);
    await recordAudit(tx, { type: 'ssf_stream.deleted', actor: actorOf(clientId), target: { type: 'ssf_stream', id: row.id } });
  });
}

export async function listStreams(ctx: StreamContext, clientId: string) {
  return (await listStreamsOf(ctx.db, clientId)).map((r) => streamView(ctx, r));
}

export const statusView = (r: StreamRow) => ({ stream_id: r.id, status: r.status, ...(r.status_reason ? { reason: r.status_reason } : {}) });

export async function changeStatus(ctx: StreamContext, clientId: string, input: z.infer<typeof statusInputSchema>) {
  return ctx.db.transaction(async (tx) => {
    const row = await streamOf(tx, clientId, input.stream_id);
    const updated = await setStreamStatus(tx, row.id, input.status, input.reason ?? null);
    await recordAudit(tx, { type: 'ssf_stream.status_changed', actor: actorOf(clientId), target: { type: 'ssf_stream', id: row.id }, data: { before: row.status, after: input.status } });
    return statusView(updated!);
  });
}

/** SSF 1.0 §8.1.4.2: a verification event, delivered in order with the rest of this stream's events. */
export async function requestVerification(ctx: StreamContext, clientId: string, input: z.infer<typeof verificationInputSchema>) {
  await ctx.db.transaction(async (tx) => {
    const row = await streamOf(tx, clientId, input.stream_id);
    await appendSsfEvent(tx, {
      eventType: EVENT_TYPES.verification,
      subId: { format: 'opaque', id: row.id },
      event: input.state === undefined ? {} : { state: input.state },
      streamId: row.id,
      retentionSeconds: RETENTION_SECONDS,
    });
  });
}

/** One stream as administrators see it (Management API, console): never the push credential. */
export const streamOverviewSchema = z.strictObject({
  stream_id: z.string(),
  client_id: z.string().meta({ description: 'The receiver: the client that created the stream.' }),
  description: z.string().nullable(),
  delivery_method: z.enum(['push', 'poll']).meta({ description: 'push: RFC 8935, to endpoint_url; poll: RFC 8936, the receiver asks.' }),
  endpoint_url: z.string().nullable(),
  status: z.enum(['enabled', 'paused', 'disabled']),
  last_delivered_event: z.string().nullable().meta({ description: 'Id of the last event delivered (push: accepted with 202; poll: sent).' }),
  last_delivered_at: z.iso.datetime().nullable(),
  last_contact_at: z.iso.datetime().nullable().meta({ description: 'The last delivery, heartbeat or poll answer: how fresh the receiver’s view can be.' }),
  pending_events: z.number().int().meta({ description: 'Events not yet delivered and acknowledged.' }),
  lag_seconds: z.number().meta({ description: 'Age of the oldest event still pending; 0 when none is.' }),
  created_at: z.iso.datetime(),
});

/** Every stream with its receiver, last delivery and lag, for the Management API and the console. */
export async function streamOverview(db: Queryable): Promise<{ data: z.infer<typeof streamOverviewSchema>[] }> {
  const rows = await listStreamsOf(db, null);
  const now = Date.now();
  const data = await Promise.all(
    rows.map(async (r) => {
      const backlog = await streamBacklog(db, r.id);
      return {
        stream_id: r.id,
        client_id: r.client_id,
        description: r.description,
        delivery_method: r.delivery_method === PUSH ? ('push' as const) : ('poll' as const),
        endpoint_url: r.delivery_method === PUSH ? r.endpoint_url : null,
        status: r.status,
        last_delivered_event: r.last_delivered_id,
        last_delivered_at: r.last_delivered_at ? new Date(r.last_delivered_at).toISOString() : null,
        last_contact_at: r.last_contact_at ? new Date(r.last_contact_at).toISOString() : null,
        pending_events: backlog.pending,
        lag_seconds: backlog.oldest ? Math.max(0, Math.round((now - new Date(backlog.oldest).getTime()) / 100) / 10) : 0,
        created_at: new Date(r.created_at).toISOString(),
      };
    }),
  );
  return { data };
}
