import { html } from './html.js';
import { layout } from './layout.js';
import { passkeyForm } from './passkey-form.js';

export interface LoginView {
  uid: string;
  csrf: string;
  clientName: string;
  login?: string;
  error?: string;
  /** Offer "Sign in with a passkey" (not where ISSUER is an IP address: see services/passkeys.ts). */
  passkeys?: boolean;
}

export function loginPage(v: LoginView): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${v.clientName}</strong></p>
${v.error ? html`<p class="alert" role="alert" id="login-error">${v.error}</p>` : ''}
<form method="post" action="/interaction/${v.uid}/login" novalidate>
  <input type="hidden" name="csrf" value="${v.csrf}">
  <label for="login">Email</label>
  <input id="login" name="login" type="email" autocomplete="username" required autofocus
    value="${v.login ?? ''}"${v.error ? html` aria-describedby="login-error"` : ''}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit" class="primary">Sign in</button>
</form>
${v.passkeys ? passkeyForm({ kind: 'sign-in', options: `/interaction/${v.uid}/passkey-options`, action: `/interaction/${v.uid}/passkey`, csrf: v.csrf, label: 'Sign in with a passkey', secondary: true }) : ''}
<p class="secondary-action"><a href="/account/forgot">Forgot password?</a></p>
<form method="post" action="/interaction/${v.uid}/abort" class="secondary-action">
  <input type="hidden" name="csrf" value="${v.csrf}">
  <button type="submit" class="link">Cancel and return to ${v.clientName}</button>
</form>`,
    { passkeys: v.passkeys },
  );
}
