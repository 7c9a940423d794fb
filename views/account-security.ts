import { html } from './html.js';
import { layout } from './layout.js';
import { passkeyForm } from './passkey-form.js';
import { recoveryCodesBody, totpEnrolBody, type TotpEnrolView } from './second-factor.js';

export interface AccountSecurityView {
  csrf: string;
  email: string;
  totp: { since: Date } | undefined;
  recoveryCodesLeft: number;
  passkeys: { id: string; name: string; createdAt: Date; lastUsedAt: Date | null }[];
  /** Whether a role of theirs requires two factors at sign-in. */
  required: boolean;
  /** Whether passkeys can be added here (ISSUER names a domain, not an IP address). */
  passkeysAvailable: boolean;
  notice?: string;
  error?: string;
  /** With the error: where to sign in again (a sensitive change needs a recent sign-in). */
  reauth?: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const BASE = '/account/security';

/** /account/security: the person's own second factors (issue 13). */
export function accountSecurityPage(v: AccountSecurityView): string {
  const hidden = html`<input type="hidden" name="csrf" value="${v.csrf}">`;
  return layout(
    'Sign-in security',
    html`<h1>Sign-in security</h1>
<p class="lead">Signed in as <strong>${v.email}</strong></p>
${v.notice ? html`<p class="note" role="status">${v.notice}</p>` : ''}
${v.error ? html`<p class="alert" role="alert">${v.error}${v.reauth ? html` <a href="${v.reauth}">Sign in again</a>` : ''}</p>` : ''}
${v.required && !v.totp && !v.passkeys.length ? html`<p class="alert" role="alert">Your role requires a second factor: you will be asked to set one up at your next sign-in.</p>` : ''}
<h2 id="totp-heading">Authenticator app</h2>
${v.totp
  ? html`<p>On since ${day(v.totp.since)}. ${v.recoveryCodesLeft} recovery code${v.recoveryCodesLeft === 1 ? '' : 's'} left.</p>
<div class="inline-actions">
<form method="post" action="${BASE}/recovery-codes">${hidden}<button type="submit" class="secondary">New recovery codes</button></form>
<form method="post" action="${BASE}/totp/remove">${hidden}<button type="submit" class="danger">Remove authenticator app</button></form>
</div>`
  : html`<p>Not set up.</p><p><a href="${BASE}/totp">Set up an authenticator app</a></p>`}
<h2 id="passkeys-heading">Passkeys</h2>
${v.passkeys.length
  ? html`<ul class="factor-list" aria-labelledby="passkeys-heading">
${v.passkeys.map(
  (p) => html`<li data-passkey-id="${p.id}"><strong>${p.name}</strong> <span class="note">added ${day(p.createdAt)}${p.lastUsedAt ? html`, last used ${day(p.lastUsedAt)}` : ''}</span>
  <div class="inline-actions">
  <form method="post" action="${BASE}/passkeys/${p.id}/rename">${hidden}<label for="rename-${p.id}" class="visually-hidden">New name for ${p.name}</label><input id="rename-${p.id}" name="name" type="text" maxlength="100" value="${p.name}" required><button type="submit" class="secondary">Rename</button></form>
  <form method="post" action="${BASE}/passkeys/${p.id}/remove">${hidden}<button type="submit" class="danger" aria-label="Remove ${p.name}">Remove</button></form>
  </div></li>
`,
)}</ul>`
  : html`<p>None yet.</p>`}
${!v.passkeysAvailable ? html`<p class="note">Passkeys need Gatehouse to be reached by a domain name (ISSUER), not an IP address.</p>` : passkeyForm({ kind: 'register', options: `${BASE}/passkeys/options`, action: `${BASE}/passkeys`, csrf: v.csrf, label: 'Add a passkey', secondary: true, fields: html`<label for="passkey-name">Name of the new passkey</label>
  <input id="passkey-name" name="name" type="text" maxlength="100" value="Passkey" required>` })}`,
    { passkeys: v.passkeysAvailable },
  );
}

export function accountTotpEnrolPage(v: Omit<TotpEnrolView, 'action'>): string {
  return layout('Set up an authenticator app', html`${totpEnrolBody({ ...v, action: `${BASE}/totp`, heading: 'Set up an authenticator app' })}
<p class="secondary-action"><a href="${BASE}">Back to sign-in security</a></p>`);
}

export function accountRecoveryCodesPage(codes: string[], csrf: string): string {
  return layout('Recovery codes', html`${recoveryCodesBody({ codes, action: BASE, csrf, button: 'Done' })}`);
}

export function signInNeededPage(): string {
  return layout(
    'Sign in first',
    html`<h1>Sign in first</h1>
<p class="lead">You need to be signed in to Gatehouse on this browser to change how you sign in.</p>
<p><a href="/console/">Sign in</a>, then come back to this page.</p>`,
  );
}
