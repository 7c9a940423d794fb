import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { completeSignIn, consolePath, renew, signIn, SignInError } from './auth.js';
import { BrandCard, WrongHost, wrongHost } from './components/wrong-host.js';
import { Layout } from './components/layout.js';
import { Button, ErrorNotice, Loading } from './components/ui.js';
import { asApiError } from './hooks.js';
import { ApiKeysPage } from './pages/api-keys.js';
import { ApiKeyPage } from './pages/api-key.js';
import { ApisPage } from './pages/apis.js';
import { AuditPage } from './pages/audit-log.js';
import { CredentialPage } from './pages/credential.js';
import { CredentialsPage } from './pages/credentials.js';
import { ScopesPage } from './pages/scopes.js';
import { SigningKeysPage } from './pages/signing-keys.js';
import { ResourceServersPage } from './pages/resource-servers.js';
import { RolesPage } from './pages/role-list.js';
import { UsersPage } from './pages/people.js';
import { WebhooksPage } from './pages/webhooks.js';
import { match, navigate, useLocation } from './router.js';
import { SessionContext } from './session.js';
import type { Me } from './types.js';

type Boot = { state: 'starting' } | { state: 'ready'; me: Me } | { state: 'failed'; error: ApiError } | { state: 'signed-out' } | { state: 'elsewhere'; url: string };

export function App() {
  const [boot, setBoot] = useState<Boot>({ state: 'starting' });
  const loadMe = async () => {
    try {
      setBoot({ state: 'ready', me: await api.get<Me>('/me') });
    } catch (err) {
      setBoot({ state: 'failed', error: asApiError(err) });
    }
  };
  useEffect(() => {
    if (window.location.pathname === consolePath('/signed-out')) {
      setBoot({ state: 'signed-out' });
      return;
    }
    // Signing in works only at ISSUER (the console's redirect URI is registered there): elsewhere, say where.
    wrongHost()
      .then((elsewhere) => {
        if (elsewhere) {
          setBoot({ state: 'elsewhere', url: elsewhere });
          return;
        }
        return completeSignIn().then((returnTo) => {
          if (returnTo) navigate(returnTo, true);
          return loadMe();
        });
      })
      .catch((err) => {
        const message = err instanceof SignInError ? `Sign-in did not complete: ${err.message}` : asApiError(err).message;
        setBoot({ state: 'failed', error: new ApiError(0, 'sign_in', message) });
      });
  }, []);

  if (boot.state === 'elsewhere') return <WrongHost url={boot.url} />;

  if (boot.state === 'signed-out') return <SignedOut />;
  if (boot.state === 'starting') {
    return (
      <div class="centered">
        <Loading label="Signing you in…" />
      </div>
    );
  }
  if (boot.state === 'failed') {
    return (
      <div class="centered">
        <div class="card">
          <h1>Gatehouse console</h1>
          <ErrorNotice error={boot.error} />
          <Button variant="primary" onClick={() => void signIn(consolePath('/'))}>
            Sign in again
          </Button>
        </div>
      </div>
    );
  }
  return (
    // refresh: a new access token (what it carries follows the roles held now), then /me again.
    <SessionContext.Provider value={{ me: boot.me, refresh: () => void renew().then(loadMe) }}>
      <Layout>
        <Routes />
      </Layout>
    </SessionContext.Provider>
  );
}

function Routes() {
  const { path } = useLocation();
  const first = useRef(true);
  // After navigating inside the console, focus moves to the new page's heading, so keyboard and
  // screen-reader users start there. Not on the first page: a fresh page starts at its top (skip link).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = document.getElementById('page-title');
    if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  }, [path]);
  let params: Record<string, string> | undefined;
  if ((params = match('/console/credentials/:id/scopes', path))) return <ScopesPage clientId={params.id} />;
  if ((params = match('/console/credentials/:id', path))) return <CredentialPage clientId={params.id} />;
  if ((params = match('/console/api-keys/:id', path))) return <ApiKeyPage keyId={params.id} />;
  if (match('/console/api-keys', path)) return <ApiKeysPage />;
  if (match('/console/apis', path)) return <ApisPage />;
  if (match('/console/users', path)) return <UsersPage />;
  if (match('/console/roles', path)) return <RolesPage />;
  if (match('/console/audit', path)) return <AuditPage />;
  if (match('/console/signing-keys', path)) return <SigningKeysPage />;
  if (match('/console/webhooks', path)) return <WebhooksPage />;
  if (match('/console/resource-servers', path)) return <ResourceServersPage />;
  if (match('/console', path) || match('/console/callback', path)) return <CredentialsPage />;
  return (
    <div class="centered-block">
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        There is no console page at <code>{path}</code>.
      </p>
    </div>
  );
}

function SignedOut() {
  return (
    <BrandCard>
      <h1>You have signed out</h1>
      <p class="muted">Your Gatehouse session has ended on this browser.</p>
      <Button variant="primary" onClick={() => void signIn(consolePath('/'))}>
        Sign in again
      </Button>
    </BrandCard>
  );
}
