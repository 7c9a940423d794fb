import { hash, verify } from '@node-rs/argon2';

/**
 * argon2id with the OWASP-recommended floor (19 MiB, 2 passes, 1 lane). Parameters are stored in
 * each PHC string, so raising them later only affects new hashes.
 */
const OPTIONS = { algorithm: 2 /* Argon2id */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same time as a real verification, for logins with an unknown email, so response time
 * does not reveal whether an account exists.
 */
export async function verifyNothing(password: string): Promise<false> {
  dummy ??= hashPassword('gatehouse-timing-equaliser');
  await verifyPassword(await dummy, password);
  return false;
}
