import { randomUUID } from 'node:crypto';
import { fetchOutbound } from '../../net/outbound.js';
import type { Database } from '../../db/database.js';
import type { Sealer } from '../../crypto/seal.js';
import type { Logger } from '../../logger.js';
import type { KeyRing } from '../keyring.js';
import {
  type StreamRow, acknowledge, advancePushCursor, leasePushStreams, markContact, pendingEvents, releaseLeases, sweepSsfEvents,
} from '../../store/ssf.js';
import { EVENT_TYPES } from './events.js';
import { SetSigner, eventIdOf } from './set.js';
import { authorizationHeaderOf } from './streams.js';

/** How long this node keeps a push stream to itself; a node killed mid-delivery is replaced after it. */
const LEASE_SECONDS = 5;
/** A push receiver gets this long to answer one SET. */
const PUSH_TIMEOUT_MS = 5000;
/** Push streams are looked at this often even without a notification (outages, a missed NOTIFY). */
const TICK_MS = 1000;
const MAX_BATCH = 100;

export interface PollRequest {
  ack: string[];
  maxEvents: number;
  returnImmediately: boolean;
}

/**
 * Delivers the security-event outbox (migration 015) to every stream, at least once and in order:
 * push (RFC 8935) by whichever node holds the stream's lease, moving the stream's cursor only after a
 * 202; poll (RFC 8936) by whichever node the receiver asks, moving the cursor only on
 * acknowledgement. Every node listens for new events (NOTIFY at commit) and wakes its deliveries and
 * held polls at once.
 */
export class Transmitter {
  readonly node = `node-${randomUUID()}`;
  private readonly signer: SetSigner;
  private waiters = new Set<() => void>();
  private stopListening: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly deps: {
      db: Database; keys: KeyRing; sealer: Sealer; issuer: string; logger: Logger; heartbeatSeconds: number;
      /** OUTBOUND_PRIVATE_ADDRESSES: push endpoints may be loopback or private addresses (server/net/outbound.ts). */
      allowPrivateAddresses?: boolean;
    },
  ) {
    this.signer = new SetSigner(deps.keys, deps.issuer);
  }

  async start(): Promise<void> {
    this.stopListening = await this.deps.db.listen('gatehouse_ssf', {
      message: () => this.wake(),
      up: () => this.wake(),
      down: () => undefined,
    });
    this.timer = setInterval(() => this.wake(), TICK_MS);
    this.timer.unref();
    this.sweep = setInterval(() => {
      sweepSsfEvents(this.deps.db).catch((err) => this.deps.logger.warn({ err: err.message }, 'ssf event sweep failed'));
    }, 10 * 60 * 1000);
    this.sweep.unref();
    // The node's name is what ssf_streams.lease_owner shows: which process delivers which push stream.
    this.deps.logger.info({ node: this.node }, 'shared signals transmitter started');
    this.wake();
  }

  /** Stops delivering; another node takes this node's push streams over at once. */
  async stop(): Promise<void> {
    await this.abandon();
    await this.running?.catch(() => undefined);
    await releaseLeases(this.deps.db, this.node).catch(() => undefined);
  }

  /**
   * Stops at once, as a killed process would: nothing is released, so other nodes take over only when
   * this node's leases run out (tests use it to show a node dying mid-delivery loses nothing).
   */
  async abandon(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.sweep);
    for (const c of this.inFlight) c.abort();
    for (const w of this.waiters) w();
    const stopListening = this.stopListening;
    this.stopListening = undefined;
    await stopListening?.().catch(() => undefined);
  }

  private wake(): void {
    for (const w of this.waiters) w();
    this.waiters.clear();
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.deliverPush().catch((err) => this.deps.logger.warn({ err: err.message }, 'ssf push delivery failed; retrying'));
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private async deliverPush(): Promise<void> {
    const streams = await leasePushStreams(this.deps.db, this.node, LEASE_SECONDS);
    await Promise.all(streams.map((s) => this.deliverStream(s)));
  }

  private async deliverStream(stream: StreamRow): Promise<void> {
    const events = await pendingEvents(this.deps.db, stream.id, MAX_BATCH);
    for (const event of events) {
      if (this.stopped) return;
      const { set } = await this.signer.sign(stream.id, stream.client_id, event);
      if (!(await this.push(stream, set))) return; // in order: nothing later goes before this one
      if (!(await advancePushCursor(this.deps.db, stream.id, this.node, event.id, LEASE_SECONDS))) return; // lease lost
    }
    const quietFor = stream.last_contact_at ? Date.now() - new Date(stream.last_contact_at).getTime() : Infinity;
    if (!events.length && quietFor >= this.deps.heartbeatSeconds * 1000) await this.heartbeat(stream);
  }

  /**
   * SSF 1.0 §8.1.4: a verification event without state, sent when a push stream has been quiet for
   * the heartbeat interval, so the receiver knows the stream is alive and can bound its staleness.
   */
  private async heartbeat(stream: StreamRow): Promise<void> {
    const { set } = await this.signer.sign(stream.id, stream.client_id, {
      id: `hb${Date.now()}`,
      event_type: EVENT_TYPES.verification,
      sub_id: { format: 'opaque', id: stream.id },
      event: {},
    });
    if (await this.push(stream, set)) await markContact(this.deps.db, stream.id);
  }

  /** RFC 8935 §2: true once the receiver has the SET (202), or has refused it for good (400, §2.3). */
  private async push(stream: StreamRow, set: string): Promise<boolean> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), PUSH_TIMEOUT_MS);
    this.inFlight.add(controller);
    try {
      const authorization = authorizationHeaderOf(this.deps.sealer, stream);
      const res = await fetchOutbound(
        stream.endpoint_url!,
        {
          method: 'POST',
          // RFC 8935 §2.3 expects 202 or an error; a redirect is not followed to where it points.
          redirect: 'manual',
          headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', ...(authorization ? { authorization } : {}) },
          body: set,
          signal: controller.signal,
        },
        this.deps.allowPrivateAddresses ?? false,
      );
      await res.arrayBuffer().catch(() => undefined);
      if (res.status === 202) return true;
      if (res.status === 400) {
        // The receiver will never take this SET (RFC 8935 §2.3): holding it back would stop the stream.
        this.deps.logger.warn({ stream: stream.id, status: res.status }, 'ssf push receiver refused a SET');
        return true;
      }
      this.deps.logger.warn({ stream: stream.id, status: res.status }, 'ssf push receiver did not accept a SET; retrying');
      return false;
    } catch (err) {
      if (!this.stopped) this.deps.logger.warn({ stream: stream.id, err: (err as Error).message }, 'ssf push receiver unreachable; retrying');
      return false;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
  }

  /**
   * RFC 8936 §2.4: records the acknowledgements, then answers the events still unacknowledged, oldest
   * first. With none and returnImmediately false, the request is held until an event commits or the
   * heartbeat interval passes, then answered (an empty answer is the heartbeat).
   */
  async poll(stream: StreamRow, req: PollRequest): Promise<{ sets: Record<string, string>; moreAvailable: boolean }> {
    const acked = req.ack.map((jti) => eventIdOf(jti, stream.id)).filter((id): id is string => id !== undefined);
    await acknowledge(this.deps.db, stream.id, acked);
    const deadline = Date.now() + this.deps.heartbeatSeconds * 1000;
    const max = Math.max(0, Math.min(req.maxEvents, MAX_BATCH));
    let events = max && stream.status === 'enabled' ? await pendingEvents(this.deps.db, stream.id, max + 1) : [];
    while (!events.length && max && stream.status === 'enabled' && !req.returnImmediately && !this.stopped && Date.now() < deadline) {
      await this.waitForEvent(deadline - Date.now());
      events = await pendingEvents(this.deps.db, stream.id, max + 1);
    }
    const sets: Record<string, string> = {};
    for (const event of events.slice(0, max)) {
      const { jti, set } = await this.signer.sign(stream.id, stream.client_id, event);
      sets[jti] = set;
    }
    const delivered = events.slice(0, max).at(-1)?.id;
    await markContact(this.deps.db, stream.id, delivered);
    return { sets, moreAvailable: events.length > max };
  }

  private waitForEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}
