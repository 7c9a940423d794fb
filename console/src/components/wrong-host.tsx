import type { ComponentChildren } from 'preact';
import { currentPath, discover } from '../auth.js';

/**
 * Where the console should be opened, when it was opened at another address than the server's
 * ISSUER (another host name, an IP address, a proxy): its sign-in only works at ISSUER, where its
 * redirect URI is registered, so elsewhere the login page could only say the request is
 * misconfigured. Undefined when this is the right place, or when the server cannot be asked.
 */
export async function wrongHost(): Promise<string | undefined> {
  const issuer = await discover().then((d) => d.issuer, () => undefined);
  if (!issuer) return undefined;
  const home = new URL(issuer).origin;
  return home === window.location.origin ? undefined : `${home}${currentPath()}`;
}

/** A page of its own outside the signed-in console (signed out, wrong address): the brand and a card. */
export function BrandCard({ children }: { children: ComponentChildren }) {
  return (
    <div class="centered">
      <div class="card">
        <p class="brand">
          <span class="brand-mark" aria-hidden="true">G</span> Gatehouse
        </p>
        {children}
      </div>
    </div>
  );
}

export function WrongHost({ url }: { url: string }) {
  return (
    <BrandCard>
      <h1>Open the console at its own address</h1>
      <p>
        This Gatehouse server is configured as <code>{new URL(url).origin}</code> (its <code>ISSUER</code>), and signing in to the console works only there. You opened it at{' '}
        <code>{window.location.origin}</code>.
      </p>
      <p>
        <a class="btn btn-primary" href={url}>
          Go to {new URL(url).origin}/console
        </a>
      </p>
      <p class="muted small">If that address is not reachable from here, the server's ISSUER setting needs to name the address people use.</p>
    </BrandCard>
  );
}
