import type { Config } from '../../config.js';
import { configureHashing } from '../../crypto/passwords.js';
import { configurePasswordRules } from '../password-rules.js';

/**
 * The process-wide parts of attack protection, set once from the configuration by every entry that
 * hashes or accepts passwords (the server's runtime and the CLI): the bound on argon2 hashes at once
 * and the password rules.
 */
export function applyProtectionSettings(config: Config): void {
  configureHashing({ concurrency: config.protection.hashConcurrency, queue: config.protection.hashQueue });
  configurePasswordRules({ minLength: config.protection.passwordMinLength });
}
