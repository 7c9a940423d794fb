import type { Redis } from 'ioredis';
import { AlreadyConsumedError, StorageUnavailableError, isConnectionError } from '../server/db/errors.js';
import { type ArtifactStore, type OwnerField, type Payload, assertUnindexed, createLifetime, epochNow, indexFields } from './contract.js';

/**
 * Marks an artifact consumed if it exists and is not consumed yet. Returns 1 when this call consumed
 * it, 0 when it was consumed already, -1 when it does not exist. One script, so it is atomic.
 */
const CONSUME = `
if redis.call('exists', KEYS[1]) == 0 then return -1 end
return redis.call('hsetnx', KEYS[1], 'consumed', ARGV[1])
`;

/**
 * Stores an artifact only if its key does not exist (Redis drops expired keys, so an expired one
 * does not): 1 when this call stored it, 0 otherwise. KEYS[1] the artifact; ARGV[1] the payload;
 * ARGV[2] its TTL in seconds.
 */
const CREATE = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'payload', ARGV[1])
redis.call('expire', KEYS[1], ARGV[2])
return 1
`;

/**
 * Adds an artifact to an index set (its grant's, its client's, its account's) and keeps the set alive as long as its longest-lived
 * member: a member without expiry makes the set persistent, and a later member with a TTL must not
 * give it one (EXPIRE NX cannot tell "no TTL yet" from "persistent on purpose", so this is a script).
 * KEYS[1] the set; ARGV[1] the artifact id; ARGV[2] its TTL in seconds, 0 for none.
 */
const INDEX = `
local existed = redis.call('exists', KEYS[1])
local ttl = redis.call('ttl', KEYS[1])
redis.call('sadd', KEYS[1], ARGV[1])
local seconds = tonumber(ARGV[2])
if seconds == 0 then
  redis.call('persist', KEYS[1])
elseif existed == 0 or (ttl >= 0 and ttl < seconds) then
  redis.call('expire', KEYS[1], seconds)
end
return 1
`;

/**
 * Deletes the members of an index set that still belong to what it indexes (payload[ARGV[3]] equals
 * ARGV[2]). A member replaced since it was indexed (upsert with another grantId) is left alone, as it
 * is in Postgres. Decoding in the script keeps the check and the delete atomic. It touches keys it
 * computes (one Redis, not a cluster, as the multi-key commands of this store already assume).
 * KEYS[1] the set; ARGV[1] the key prefix of the model's artifacts; ARGV[2] the value; ARGV[3] the
 * payload field. Returns how many artifacts it deleted.
 */
const REVOKE_INDEXED = `
local ids = redis.call('smembers', KEYS[1])
local deleted = 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local raw = redis.call('hget', key, 'payload')
  if raw then
    local ok, payload = pcall(cjson.decode, raw)
    if ok and type(payload) == 'table' and payload[ARGV[3]] == ARGV[2] then
      redis.call('del', key)
      deleted = deleted + 1
    end
  end
end
redis.call('del', KEYS[1])
return deleted
`;

/**
 * Deletes the artifact a uid index names if it still carries that uid, and the index. Atomic, as
 * REVOKE_INDEXED. KEYS[1] the uid index; ARGV[1] the model's key prefix; ARGV[2] the uid.
 * Returns 1 when it deleted the artifact, 0 otherwise.
 */
const DESTROY_BY_UID = `
local id = redis.call('get', KEYS[1])
if not id then return 0 end
local key = ARGV[1] .. id
local raw = redis.call('hget', key, 'payload')
redis.call('del', KEYS[1])
if not raw then return 0 end
local ok, payload = pcall(cjson.decode, raw)
if ok and type(payload) == 'table' and payload['uid'] == ARGV[2] then
  redis.call('del', key)
  return 1
end
return 0
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
  private ownerKey(model: string, field: OwnerField, value: string) {
    return `${this.prefix}${field === 'clientId' ? 'client' : 'account'}:${model}:${value}`;
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
    const { grantId, uid, userCode, clientId, accountId } = indexFields(payload);
    const multi = this.redis.multi().del(key).hset(key, 'payload', JSON.stringify(payload));
    const expire = (k: string) => (expiresIn ? multi.expire(k, expiresIn) : multi.persist(k));
    expire(key);
    const ttl = String(expiresIn ?? 0);
    if (grantId) multi.eval(INDEX, 1, this.grantKey(model, grantId), id, ttl);
    if (clientId) multi.eval(INDEX, 1, this.ownerKey(model, 'clientId', clientId), id, ttl);
    if (accountId) multi.eval(INDEX, 1, this.ownerKey(model, 'accountId', accountId), id, ttl);
    if (uid) {
      multi.set(this.uidKey(model, uid), id);
      expire(this.uidKey(model, uid));
    }
    if (userCode) {
      multi.set(this.userCodeKey(model, userCode), id);
      expire(this.userCodeKey(model, userCode));
    }
    const results = await this.call(() => multi.exec());
    // EXEC succeeds even when a queued command failed; each reply carries its own error.
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async create(model: string, id: string, payload: Payload, expiresIn: number): Promise<boolean> {
    assertUnindexed(payload);
    const stored = await this.call(() => this.redis.eval(CREATE, 1, this.key(model, id), JSON.stringify(payload), String(createLifetime(expiresIn))));
    return stored === 1;
  }

  async find(model: string, id: string): Promise<Payload | undefined> {
    const data = await this.call(() => this.redis.hgetall(this.key(model, id)));
    if (!data.payload) return undefined;
    const payload = JSON.parse(data.payload) as Payload;
    return data.consumed ? { ...payload, consumed: Number(data.consumed) } : payload;
  }

  /**
   * Follows an index key to the artifact. Index keys are not removed when the artifact is replaced
   * or destroyed, so the artifact must still carry the value the index was looked up by.
   */
  private async findVia(indexKey: string, model: string, field: 'uid' | 'userCode', value: string) {
    const id = await this.call(() => this.redis.get(indexKey));
    const payload = id ? await this.find(model, id) : undefined;
    return payload && indexFields(payload)[field] === value ? payload : undefined;
  }

  findByUid(model: string, uid: string) {
    return this.findVia(this.uidKey(model, uid), model, 'uid', uid);
  }

  findByUserCode(model: string, userCode: string) {
    return this.findVia(this.userCodeKey(model, userCode), model, 'userCode', userCode);
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

  /** The uid index may name an artifact since replaced by one of another uid: that one stays. */
  async destroyByUid(model: string, uid: string): Promise<boolean> {
    const deleted = await this.call(() => this.redis.eval(DESTROY_BY_UID, 1, this.uidKey(model, uid), this.key(model, ''), uid));
    return Number(deleted) > 0;
  }

  async revokeByGrantId(model: string, grantId: string): Promise<void> {
    await this.call(() => this.redis.eval(REVOKE_INDEXED, 1, this.grantKey(model, grantId), this.key(model, ''), grantId, 'grantId'));
  }

  revokeByClientId(model: string, clientId: string): Promise<number> {
    return this.revokeByOwner(model, 'clientId', clientId);
  }

  revokeByAccountId(model: string, accountId: string): Promise<number> {
    return this.revokeByOwner(model, 'accountId', accountId);
  }

  private async revokeByOwner(model: string, field: OwnerField, value: string): Promise<number> {
    const deleted = await this.call(() => this.redis.eval(REVOKE_INDEXED, 1, this.ownerKey(model, field, value), this.key(model, ''), value, field));
    return Number(deleted);
  }
}
