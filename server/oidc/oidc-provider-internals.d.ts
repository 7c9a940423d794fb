/** The one internal module of oidc-provider we use (server/oidc/dpop.ts says why); it ships no types. */
declare module 'oidc-provider/lib/helpers/grants.js' {
  import type Provider from 'oidc-provider';
  import type { KoaContextWithOIDC } from 'oidc-provider';

  interface DpopResult {
    thumbprint: string;
    jti: string;
    iat: number;
  }
  export function validateDpop(provider: Provider, ctx: KoaContextWithOIDC, accessToken?: string): Promise<DpopResult | undefined>;
  export function checkDpopRequired(provider: Provider, ctx: KoaContextWithOIDC, proof: DpopResult | undefined): void;
  export function checkDpopReplay(provider: Provider, ctx: KoaContextWithOIDC, proof: DpopResult, clientId: string): Promise<void>;
}
