import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * Password rules of NIST SP 800-63B §5.1.1.2: a minimum length (PASSWORD_MIN_LENGTH, 12 by default;
 * NIST's floor is 8), room for long passphrases (up to 1024 characters here, NIST asks for at least
 * 64), and no password that appears on a list of commonly used or breached ones. No composition
 * rules (digits, symbols) and no expiry: NIST advises against both.
 *
 * The list is zxcvbn-ts's common-password dictionary (about 49,000 entries drawn from breach
 * corpora), shipped inside the npm package: nothing is fetched at run time.
 */
const COMMON = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));

export const PASSWORD_MAX_LENGTH = 1024;

let minLength = 12;

/** Set once at start from PASSWORD_MIN_LENGTH (server/config.ts). */
export function configurePasswordRules(options: { minLength: number }): void {
  minLength = options.minLength;
}

export function passwordMinLength(): number {
  return minLength;
}

/** Why the password is refused, in words for the person choosing it, or undefined when it is fine. */
export function checkPassword(password: string): string | undefined {
  // Length in characters (code points), as NIST counts it, not UTF-16 units.
  const length = [...password].length;
  if (length < minLength) return `passwords need at least ${minLength} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `passwords can have at most ${PASSWORD_MAX_LENGTH} characters`;
  const folded = password.toLowerCase();
  if (COMMON.has(folded) || COMMON.has(folded.trim())) {
    return 'this password is on a list of common or breached passwords; choose another';
  }
  return undefined;
}

/** For zod schemas: `z.string().superRefine(passwordRule)`. */
export function passwordRule(password: string, ctx: { addIssue(issue: { code: 'custom'; message: string }): void }): void {
  const problem = checkPassword(password);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}
