import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { discover } from '../auth.js';
import { useLoad } from '../hooks.js';
import { apisForDownload, envName, SECRET_VARIABLE, type ApiUse } from '../usage.js';
import { Dialog } from './dialog.js';
import { CopyField, downloadFile } from './secret.js';
import { Button, Notice } from './ui.js';

export interface IssuedCredentials {
  clientId: string;
  clientName: string;
  /** Absent for a public client (single-page and native apps have no secret). */
  secret?: string;
  environment: string;
  /** The APIs it may call, with the scopes it holds of each (none yet for a new credential). */
  apis?: ApiUse[];
}

/** The server's own URLs: from its discovery document (ISSUER), else this page's origin. */
interface Urls {
  issuer: string;
  token_endpoint: string;
  jwks_uri: string;
}

const fallbackUrls = (): Urls => ({ issuer: window.location.origin, token_endpoint: `${window.location.origin}/oauth/token`, jwks_uri: `${window.location.origin}/oauth/jwks` });

function asJson(c: IssuedCredentials, urls: Urls): string {
  return `${JSON.stringify(
    {
      client_name: c.clientName,
      client_id: c.clientId,
      ...(c.secret ? { client_secret: c.secret } : {}),
      issuer: urls.issuer,
      token_endpoint: urls.token_endpoint,
      jwks_uri: urls.jwks_uri,
      // A token is for one API: ask with resource (RFC 8707) and that API's scopes.
      apis: apisForDownload(c.apis ?? []),
    },
    null,
    2,
  )}\n`;
}

function asEnv(c: IssuedCredentials, urls: Urls): string {
  return [
    `# ${c.clientName} (${c.environment}), from Gatehouse`,
    `GATEHOUSE_ISSUER=${urls.issuer}`,
    `GATEHOUSE_TOKEN_ENDPOINT=${urls.token_endpoint}`,
    `GATEHOUSE_CLIENT_ID=${c.clientId}`,
    ...(c.secret ? [`${SECRET_VARIABLE}=${c.secret}`] : []),
    ...(c.apis ?? []).flatMap((u) => [`# ${u.name}: ask for a token with resource and these scopes`, `${envName(u.name)}_RESOURCE=${u.identifier}`, `${envName(u.name)}_SCOPE="${u.scopes.join(' ')}"`]),
    '',
  ].join('\n');
}

const fileBase = (c: IssuedCredentials) => (c.clientName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'credentials');

/**
 * Shows a client id and secret the one time they exist in readable form. The secret is never shown
 * again (the server keeps only a digest), so closing needs an explicit "I have saved" first; Escape
 * does not close it.
 */
export function CredentialsSaved({
  title,
  credentials,
  lead,
  onDone,
  secondary,
}: {
  title: string;
  credentials: IssuedCredentials;
  lead?: ComponentChildren;
  onDone(): void;
  /** A second way out, e.g. "Close and edit scopes"; also waits for the confirmation. */
  secondary?: { label: string; onClick(): void };
}) {
  const [saved, setSaved] = useState(!credentials.secret);
  const discovered = useLoad(discover, []).data;
  const urls = discovered ? { issuer: discovered.issuer, token_endpoint: discovered.token_endpoint, jwks_uri: discovered.jwks_uri ?? fallbackUrls().jwks_uri } : fallbackUrls();
  return (
    <Dialog
      title={title}
      onClose={onDone}
      dismissible={false}
      footer={
        <>
          <Button onClick={() => downloadFile(`${fileBase(credentials)}.json`, asJson(credentials, urls))}>Download credentials</Button>
          <Button onClick={() => downloadFile(`${fileBase(credentials)}.env`, asEnv(credentials, urls), 'text/plain')}>Download .env</Button>
          <span class="spacer" />
          {secondary && (
            <Button disabled={!saved} onClick={secondary.onClick}>
              {secondary.label}
            </Button>
          )}
          <Button variant="primary" disabled={!saved} onClick={onDone}>
            Done
          </Button>
        </>
      }
    >
      {lead}
      <CopyField id="issued-client-id" label="Client ID" value={credentials.clientId} />
      {credentials.secret ? (
        <>
          <CopyField id="issued-client-secret" label="Client secret" value={credentials.secret} secret />
          <Notice kind="warning">
            This is the only time the secret is shown. Gatehouse keeps only a one-way digest of it: if it is lost, rotate the secret to get a new one.
          </Notice>
          <label class="check">
            <input type="checkbox" checked={saved} onChange={(e) => setSaved((e.currentTarget as HTMLInputElement).checked)} />
            I have saved my credentials securely
          </label>
        </>
      ) : (
        <Notice>This app runs where a secret cannot be kept, so it has none: it signs people in with PKCE using the client ID alone.</Notice>
      )}
    </Dialog>
  );
}
