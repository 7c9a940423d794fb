import { z } from 'zod';
import type { Queryable } from '../db/database.js';
import { findRecentAddresses, findUsageByDay } from '../store/api-key-usage.js';
import type { ApiKeyUsage } from './api-key-usage.js';
import { utcDay } from './api-key-usage.js';
import { mustFind } from './api-keys.js';
import type { Principal } from './principal.js';
import { timestamp } from './validation.js';

/** Days the usage answer covers, today included. */
export const USAGE_DAYS = 30;

export const apiKeyUsageSchema = z.strictObject({
  key_id: z.string(),
  days: z.array(z.strictObject({
    day: z.string().meta({ description: 'A UTC day, YYYY-MM-DD.', examples: ['2026-12-02'] }),
    count: z.number().int().min(0),
  })).meta({ description: `Requests per UTC day, the last ${USAGE_DAYS} days oldest first, today last (days without use count 0).` }),
  total: z.number().int().min(0).meta({ description: `Requests over those ${USAGE_DAYS} days.` }),
  addresses: z.array(z.strictObject({ ip: z.string(), last_seen_at: timestamp }))
    .meta({ description: 'The last few distinct addresses the key was used from, newest first.' }),
});

/**
 * A key's use: requests per day and the addresses it came from, as its owner (or someone who may
 * manage others' keys) may see. This node's counts are written first, so the answer includes every
 * request this node has answered; other nodes' appear within a few seconds (USAGE_FLUSH_MS).
 */
export async function getApiKeyUsage(db: Queryable, usage: ApiKeyUsage, id: string, principal: Principal): Promise<z.infer<typeof apiKeyUsageSchema>> {
  const key = await mustFind(db, id, principal);
  await usage.flush();
  const today = new Date();
  const first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (USAGE_DAYS - 1)));
  const counted = new Map((await findUsageByDay(db, key.id, utcDay(first))).map((d) => [d.day, d.count]));
  const days = Array.from({ length: USAGE_DAYS }, (_, i) => {
    const day = utcDay(new Date(first.getTime() + i * 86400_000));
    return { day, count: counted.get(day) ?? 0 };
  });
  const addresses = await findRecentAddresses(db, key.id);
  return {
    key_id: key.id,
    days,
    total: days.reduce((sum, d) => sum + d.count, 0),
    addresses: addresses.map((a) => ({ ip: a.ip, last_seen_at: a.lastSeenAt.toISOString() })),
  };
}
