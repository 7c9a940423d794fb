import type Provider from 'oidc-provider';
import type { ArtifactStore } from '../../adapters/contract.js';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { Mailer } from '../mail/mailer.js';
import type { Protection } from '../services/protection/index.js';
import { passwordMinLength } from '../services/password-rules.js';

export interface AccountDeps {
  /** The current provider: the instance is replaced when signing keys change, so ask per request. */
  provider: () => Provider;
  db: Database;
  logger: Logger;
  issuer: string;
  cookieSecrets: readonly string[];
  protection: Protection;
  mailer: Mailer | undefined;
  /** Where browser sessions live (Redis, or the database): ending one destroys it there. */
  sessions: ArtifactStore;
}

/** The password rules in words, under every new-password field (services/password-rules.ts). */
export const passwordRuleText = () => `At least ${passwordMinLength()} characters, and not a common or breached password.`;
