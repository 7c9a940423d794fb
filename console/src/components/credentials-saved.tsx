import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { Dialog } from './dialog.js';
import { CopyField, downloadFile } from './secret.js';
import { Button, Notice } from './ui.js';

export interface IssuedCredentials {
  clientId: string;
  clientName: string;
  /** Absent for a public client (single-page and native apps have no secret). */
  secret?: string;
  environment: string;
}

const issuer = () => window.location.origin;

function asJson(c: IssuedCredentials): string {
  return `${JSON.stringify(
    {
      client_name: c.clientName,
      client_id: c.clientId,
      ...(c.secret ? { client_secret: c.secret } : {}),
      issuer: issuer(),
      token_endpoint: `${issuer()}/oauth/token`,
      jwks_uri: `${issuer()}/oauth/jwks`,
    },
    null,
    2,
  )}\n`;
}

function asEnv(c: IssuedCredentials): string {
  return [
    `# ${c.clientName} (${c.environment}), from Gatehouse`,
    `GATEHOUSE_ISSUER=${issuer()}`,
    `GATEHOUSE_TOKEN_ENDPOINT=${issuer()}/oauth/token`,
    `GATEHOUSE_CLIENT_ID=${c.clientId}`,
    ...(c.secret ? [`GATEHOUSE_CLIENT_SECRET=${c.secret}`] : []),
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
  return (
    <Dialog
      title={title}
      onClose={onDone}
      dismissible={false}
      footer={
        <>
          <Button onClick={() => downloadFile(`${fileBase(credentials)}.json`, asJson(credentials))}>Download credentials</Button>
          <Button onClick={() => downloadFile(`${fileBase(credentials)}.env`, asEnv(credentials), 'text/plain')}>Download .env</Button>
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
