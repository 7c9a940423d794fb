import './credential-usage.css';
import { discover } from '../auth.js';
import { CopyButton } from '../components/copy-button.js';
import { Notice } from '../components/ui.js';
import { useLoad } from '../hooks.js';
import { Link } from '../router.js';
import type { Api, Client } from '../types.js';
import { apiCallExample, apisUsed, authorizationCodeExample, clientCredentialsExample, SECRET_VARIABLE } from '../usage.js';

/** A block of shell a person copies whole. */
function Snippet({ label, text }: { label: string; text: string }) {
  return (
    <div class="snippet">
      <div class="snippet-head">
        <span>{label}</span>
        <CopyButton text={text} label={`Copy ${label.toLowerCase()}`} />
      </div>
      <pre aria-label={label}>
        <code>{text}</code>
      </pre>
    </div>
  );
}

/**
 * "Use this credential": per API it may call, how to get a token for it (client credentials, or the
 * authorization code flow with PKCE for apps that sign people in) and a call to the API with it.
 */
export function CredentialUsage({ client, apis }: { client: Client; apis: Api[] | undefined }) {
  const metadata = useLoad(discover, []).data;
  const uses = apisUsed(client.scope, apis ?? []);
  const service = client.grant_types.includes('client_credentials');
  const confidential = client.token_endpoint_auth_method !== 'none';
  return (
    <section class="section" aria-labelledby="usage-title">
      <div class="section-head">
        <div>
          <h2 id="usage-title">Use this credential</h2>
          <p>
            {service ? 'Your service asks the token endpoint for a token, then calls the API with it.' : 'Your app sends people to sign in with PKCE, then exchanges the code it gets back for a token.'}{' '}
            A token is for one API: <code>resource</code> names it (RFC 8707).
            {confidential && (
              <>
                {' '}
                The examples read the secret from <code>${SECRET_VARIABLE}</code>, as in the <code>.env</code> file you downloaded.
              </>
            )}
          </p>
        </div>
      </div>
      {!metadata || !apis ? null : uses.length === 0 ? (
        <Notice>
          This credential holds no API scopes yet, so there is nothing to call. <Link href={`/console/credentials/${encodeURIComponent(client.client_id)}/scopes`}>Choose scopes</Link> first.
        </Notice>
      ) : (
        uses.map((use) => (
          <div class="usage-api" key={use.identifier} role="group" aria-label={`Use with ${use.name}`}>
            <h3>
              {use.name} <code class="mono-id">{use.identifier}</code>
            </h3>
            <Snippet
              label={`Get a token for ${use.name}`}
              text={service ? clientCredentialsExample(metadata, client, use) : authorizationCodeExample(metadata, client, use)}
            />
            <Snippet label={`Call ${use.name}`} text={apiCallExample(use)} />
          </div>
        ))
      )}
    </section>
  );
}

/**
 * The scope editor's warning when the chosen scopes belong to two APIs or more: a token is for one
 * API (RFC 8707 §2), so a token request must name it with `resource`, or it is refused
 * (invalid_target).
 */
export function SpansApisNote({ selected, apis }: { selected: Set<string>; apis: Api[] }) {
  const uses = apisUsed([...selected].join(' '), apis);
  if (uses.length < 2) return null;
  return (
    <div class="notice notice-warning scope-spans" role="note">
      <strong>These scopes belong to {uses.length} APIs</strong> ({uses.map((u) => u.name).join(', ')}). A token is for one API at a time: each token request must name the API with{' '}
      <code>resource</code> (its identifier, e.g. <code>resource={uses[0]!.identifier}</code>) and gets that API's scopes only. A request without <code>resource</code> is refused with{' '}
      <code>invalid_target</code>. The credential's page shows the request for each API.
    </div>
  );
}
