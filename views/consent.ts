import { html } from './html.js';
import { layout } from './layout.js';

export interface Permission {
  /** The scope name, e.g. orders:read */
  scope: string;
  /** Plain words for a person, e.g. "Read your orders" */
  text: string;
  /** Which API it is for, when it is an API scope. */
  api?: string;
}

export interface ConsentView {
  uid: string;
  csrf: string;
  clientName: string;
  userEmail: string;
  permissions: Permission[];
  /**
   * Where the person is sent next (the redirect URI's host, or its scheme for an app): a consent is
   * given to an application at an address, and the address is what a person can check.
   */
  destination: string;
}

export function consentPage(v: ConsentView): string {
  return layout(
    'Allow access',
    html`<h1>Allow ${v.clientName} to access your account?</h1>
<p class="lead">Signed in as <strong>${v.userEmail}</strong></p>
<h2 id="permissions-heading">${v.clientName} is asking to:</h2>
<ul class="permissions" aria-labelledby="permissions-heading">
${v.permissions.map(
  (p) => html`  <li><span class="permission">${p.text}</span>${p.api ? html` <span class="api">${p.api}</span>` : ''} <code>${p.scope}</code></li>
`,
)}</ul>
<p class="destination">Whatever you choose, you will be sent back to <strong>${v.destination}</strong>.</p>
<p class="note">If you allow, Gatehouse remembers it, so ${v.clientName} need not ask again for the same access.</p>
<div class="actions">
  <form method="post" action="/interaction/${v.uid}/abort">
    <input type="hidden" name="csrf" value="${v.csrf}">
    <button type="submit" class="secondary">Deny</button>
  </form>
  <form method="post" action="/interaction/${v.uid}/confirm">
    <input type="hidden" name="csrf" value="${v.csrf}">
    <button type="submit" class="primary" autofocus>Allow</button>
  </form>
</div>`,
  );
}
