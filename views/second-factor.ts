import { html } from './html.js';
import { layout } from './layout.js';
import { passkeyForm } from './passkey-form.js';

export interface SecondFactorView {
  uid: string;
  csrf: string;
  clientName: string;
  totp: boolean;
  passkeys: boolean;
  /** Which form the error belongs to. */
  error?: { method: 'totp' | 'recovery'; message: string };
}

/** The second step of a sign-in: a code from the authenticator app, a recovery code, or a passkey. */
export function secondFactorPage(v: SecondFactorView): string {
  const action = `/interaction/${v.uid}/second-factor`;
  const err = (m: 'totp' | 'recovery') => (v.error?.method === m ? html`<p class="alert" role="alert" id="${m}-error">${v.error.message}</p>` : '');
  return layout(
    'Confirm it is you',
    html`<h1>Confirm it is you</h1>
<p class="lead">A second step to continue to <strong>${v.clientName}</strong></p>
${v.passkeys ? passkeyForm({ kind: 'sign-in', options: `/interaction/${v.uid}/passkey-options`, action: `/interaction/${v.uid}/passkey`, csrf: v.csrf, label: 'Use a passkey' }) : ''}
${v.totp ? html`<form method="post" action="${action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <input type="hidden" name="method" value="totp">
  ${err('totp')}
  <label for="code">Code from your authenticator app</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required autofocus${v.error?.method === 'totp' ? html` aria-describedby="totp-error"` : ''}>
  <button type="submit" class="primary">Continue</button>
</form>
<details class="recovery"${v.error?.method === 'recovery' ? ' open' : ''}>
<summary>Use a recovery code</summary>
<form method="post" action="${action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <input type="hidden" name="method" value="recovery">
  ${err('recovery')}
  <label for="recovery-code">Recovery code</label>
  <input id="recovery-code" name="code" type="text" autocomplete="off" spellcheck="false" maxlength="40" required>
  <button type="submit" class="secondary">Use recovery code</button>
</form>
</details>` : ''}
<form method="post" action="/interaction/${v.uid}/abort" class="secondary-action">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit" class="link">Cancel and return to ${v.clientName}</button>
</form>`,
    { passkeys: v.passkeys },
  );
}

export interface TotpEnrolView {
  /** Where the confirmation code is posted. */
  action: string;
  csrf: string;
  qr: string;
  secret: string;
  /** Why this page: the sign-in needs a second factor and the person has none yet. */
  reason?: string;
  error?: string;
  /** A passkey may be set up instead (a form that posts to these). */
  passkey?: { options: string; action: string };
  heading?: string;
}

/** Enrolment of an authenticator app: a QR code, the secret for typing in, and the first code. */
export function totpEnrolBody(v: TotpEnrolView) {
  return html`<h1>${v.heading ?? 'Set up two-step sign-in'}</h1>
${v.reason ? html`<p class="lead">${v.reason}</p>` : ''}
<h2>Authenticator app</h2>
<p>Scan this code with an authenticator app, then enter the six-digit code it shows.</p>
<img class="qr" src="${v.qr}" alt="QR code for your authenticator app" width="200" height="200">
<p class="note">Or type this key: <code id="totp-secret">${v.secret.match(/.{1,4}/g)!.join(' ')}</code></p>
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  ${v.error ? html`<p class="alert" role="alert" id="enrol-error">${v.error}</p>` : ''}
  <label for="code">Six-digit code</label>
  <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required${v.error ? html` aria-describedby="enrol-error"` : ''}>
  <button type="submit" class="primary">Turn on</button>
</form>
${v.passkey ? html`<h2>Or a passkey</h2>
<p>Use your device’s screen lock or a security key.</p>
${passkeyForm({ kind: 'register', options: v.passkey.options, action: v.passkey.action, csrf: v.csrf, label: 'Add a passkey', secondary: true, fields: html`<label for="passkey-name">Name of this passkey</label>
  <input id="passkey-name" name="name" type="text" maxlength="100" value="Passkey" required>` })}` : ''}`;
}

export function totpEnrolPage(v: TotpEnrolView): string {
  return layout('Set up two-step sign-in', totpEnrolBody(v), { passkeys: Boolean(v.passkey) });
}

/** The recovery codes, shown once after an enrolment or when they are made anew. */
export function recoveryCodesBody(v: { codes: string[]; action: string; csrf: string; button: string }) {
  return html`<h1>Save your recovery codes</h1>
<p class="lead">Each code signs you in once if you lose your authenticator. They are shown only now: print them or keep them in a password manager.</p>
<ul class="codes" aria-label="Recovery codes">
${v.codes.map((c) => html`  <li><code>${c}</code></li>
`)}</ul>
<form method="post" action="${v.action}">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit" class="primary" autofocus>${v.button}</button>
</form>`;
}

export function recoveryCodesPage(v: { codes: string[]; action: string; csrf: string; button: string }): string {
  return layout('Recovery codes', recoveryCodesBody(v));
}
