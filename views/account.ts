import { html } from './html.js';
import { layout } from './layout.js';

export interface AccountView {
  csrf: string;
  email: string;
  name: string;
  emailVerified: boolean;
  /** Whether a verification email can be sent (SMTP configured). */
  canSendMail: boolean;
  notice?: string;
  error?: string;
  sessions: { uid: string; device: string; ip: string | null; lastSeen: string; current: boolean }[];
  apps: { clientId: string; name: string; scopes: string[] }[];
  passwordRule: string;
}

const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

export function accountPage(v: AccountView): string {
  return layout(
    'Your account',
    html`<h1>Your account</h1>
<p class="lead">Signed in as <strong>${v.email}</strong></p>
${v.notice ? html`<p class="notice" role="status">${v.notice}</p>` : ''}
${v.error ? html`<p class="alert" role="alert" id="account-error">${v.error}</p>` : ''}
<h2>Email</h2>
<p>${v.email} ${v.emailVerified ? html`<span class="badge ok">Verified</span>` : html`<span class="badge">Not verified</span>`}</p>
${!v.emailVerified && v.canSendMail
  ? html`<form method="post" action="/account/verification">${csrfField(v.csrf)}<button type="submit" class="small">Send a verification email</button></form>`
  : ''}
<h2>Two-factor sign-in</h2>
<p><a href="/account/security">Two-factor sign-in</a>: authenticator apps, recovery codes and passkeys.</p>
<h2 id="password-heading">Change password</h2>
<form method="post" action="/account/password" aria-labelledby="password-heading" novalidate>
  ${csrfField(v.csrf)}
  <label for="current-password">Current password</label>
  <input id="current-password" name="current_password" type="password" autocomplete="current-password" required>
  <label for="new-password">New password</label>
  <input id="new-password" name="new_password" type="password" autocomplete="new-password" required aria-describedby="password-rule">
  <p class="note" id="password-rule">${v.passwordRule} Changing it signs you out everywhere else.</p>
  <button type="submit" class="primary">Change password</button>
</form>
<h2 id="sessions-heading">Where you are signed in</h2>
<ul class="items" aria-labelledby="sessions-heading">
${v.sessions.map(
  (s) => html`  <li><span><span class="what">${s.device}${s.current ? html` <span class="badge ok">This browser</span>` : ''}</span>
    <span class="detail">${s.ip ?? 'unknown address'} · last active ${s.lastSeen}</span></span>
    ${s.current
      ? ''
      : html`<form method="post" action="/account/sessions/${s.uid}/end">${csrfField(v.csrf)}<button type="submit" class="small" aria-label="Sign out ${s.device}, ${s.ip ?? ''}">Sign out</button></form>`}</li>
`,
)}</ul>
<h2 id="apps-heading">Apps you have allowed</h2>
${v.apps.length
  ? html`<ul class="items" aria-labelledby="apps-heading">
${v.apps.map(
  (a) => html`  <li><span><span class="what">${a.name}</span><span class="detail">${a.scopes.join(', ')}</span></span>
    <form method="post" action="/account/apps/${encodeURIComponent(a.clientId)}/withdraw">${csrfField(v.csrf)}<button type="submit" class="small" aria-label="Remove access for ${a.name}">Remove access</button></form></li>
`,
)}</ul>`
  : html`<p class="note">You have not allowed any app yet.</p>`}
<p class="secondary-action"><a href="/oauth/logout">Sign out</a></p>`,
    { wide: true },
  );
}
