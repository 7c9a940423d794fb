/**
 * Why a request was refused, with the HTTP answer it deserves (RFC 6750 §3): 401 invalid_token for a
 * bad, expired or revoked token, 503 when revocations cannot be known fresh enough and the
 * configuration says to refuse rather than guess.
 */
export class TokenError extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly error: 'invalid_token' | 'invalid_dpop_proof' | 'insufficient_scope' | 'temporarily_unavailable',
    readonly description: string,
  ) {
    super(description);
  }

  /** The WWW-Authenticate challenge for this refusal (none for 503). */
  challenge(scheme: 'Bearer' | 'DPoP' = 'Bearer'): string | undefined {
    if (this.status === 503) return undefined;
    return `${scheme} error="${this.error}", error_description="${this.description.replace(/"/g, "'")}"`;
  }
}

export const invalidToken = (description: string) => new TokenError(401, 'invalid_token', description);
