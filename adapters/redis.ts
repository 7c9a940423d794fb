import type { Redis } from 'ioredis';
import { AlreadyConsumedError, StorageUnavailableError, isConnectionError } from './errors.js';
import { type ArtifactStore, type Payload, epochNow, indexFields } from './contract.js';

/**
 * Marks an artifact consumed if it exists and is not consumed yet. Returns 1 when this call consumed
 * it, 0 when it was consumed already, -1 when it does not exist. One script, so it is atomic.
 */
const CONSUME = `
if redis.call('exists', KEYS[1]) == 0 then return -1 end
return redis.call('hsetnx', KEYS[1], 'consumed', ARGV[1])
`;

/** Short-lived artifacts in Redis hashes ({payload, consumed}) that expire with the artifact. */
export class RedisArtifactStore implements ArtifactStore {
  readonly name = 'redis';
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'gatehouse:',
  ) {}

  private key(model: string, id: string) {
    return `${this.prefix}${model}:${id}`;
  }
  private grantKey(model: string, grantId: string) {
    return `${this.prefix}grant:${model}:${grantId}`;
  }
  private uidKey(model: string, uid: string) {
    return `${this.prefix}uid:${model}:${uid}`;
  }
  private userCodeKey(model: string, userCode: string) {
    return `${this.prefix}user_code:${model}:${userCode}`;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isConnectionError(err)) throw new StorageUnavailableError('redis', { cause: err });
      throw err;
    }
  }

  async upsert(model: string, id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
    const key = this.key(model, id);
    const { grantId, uid, userCode } = indexFields(payload);
    const multi = this.redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
    const expire = (k: string) => (expiresIn ? multi.expire(k, expiresIn) : multi.persist(k));
    expire(key);
    if (grantId) {
      const gk = this.grantKey(model, grantId);
      multi.sadd(gk, id);
      // The index lives as long as its longest-lived member; GT only ever extends it.
      if (expiresIn) multi.expire(gk, expiresIn, 'GT').expire(gk, expiresIn, 'NX');
      else multi.persist(gk);
    }
    if (uid) {
      multi.set(this.uidKey(model, uid), id);
      expire(this.uidKey(model, uid));
    }
    if (userCode) {
      multi.set(this.userCodeKey(model, userCode), id);
      expire(this.userCodeKey(model, userCode));
    }
    await this.call(() => multi.exec());
  }

  async find(model: string, id: string): Promise<Payload | undefined> {
    const data = await this.call(() => this.redis.hgetall(this.key(model, id)));
    if (!data.payload) return undefined;
    const payload = JSON.parse(data.payload) as Payload;
    return data.consumed ? { ...payload, consumed: Number(data.consumed) } : payload;
  }

  private async findVia(indexKey: string, model: string) {
    const id = await this.call(() => this.redis.get(indexKey));
    return id ? this.find(model, id) : undefined;
  }

  findByUid(model: string, uid: string) {
    return this.findVia(this.uidKey(model, uid), model);
  }

  findByUserCode(model: string, userCode: string) {
    return this.findVia(this.userCodeKey(model, userCode), model);
  }

  async consume(model: string, id: string): Promise<void> {
    const key = this.key(model, id);
    const result = await this.call(() => this.redis.eval(CONSUME, 1, key, String(epochNow())));
    if (result === 1) return;
    const raw = result === 0 ? await this.call(() => this.redis.hget(key, 'payload')) : null;
    const grantId = raw ? indexFields(JSON.parse(raw) as Payload).grantId : undefined;
    throw new AlreadyConsumedError(model, grantId);
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.call(() => this.redis.del(this.key(model, id)));
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    const gk = this.grantKey(model, grantId);
    const ids = await this.call(() => this.redis.smembers(gk));
    const keys = ids.map((id) => this.key(model, id));
    await this.call(() => this.redis.del(gk, ...keys));
  }
}
