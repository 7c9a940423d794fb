import { html } from './html.js';
import { layout } from './layout.js';

export function forgotPage(v: { email?: string; error?: string; mailConfigured: boolean }): string {
  return layout(
    'Reset your password',
    html`<h1>Reset your password</h1>
${v.mailConfigured
  ? html`<p class="lead">Enter the email address of your account and we will send you a link to choose a new password.</p>
${v.error ? html`<p class="alert" role="alert">${v.error}</p>` : ''}
<form method="post" action="/account/forgot" novalidate>
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required autofocus value="${v.email ?? ''}">
  <button type="submit" class="primary">Send reset link</button>
</form>`
  : html`<p class="lead">This server does not send email. Ask an administrator for a password reset link.</p>`}`,
  );
}

export function resetSentPage(): string {
  return layout(
    'Check your email',
    html`<h1>Check your email</h1>
<p class="lead">If an account uses that address, we have sent it a link to choose a new password. The link works once, for 30 minutes.</p>
<p class="note">No message? Check your spam folder, or ask again in a few minutes.</p>`,
  );
}

export function resetPage(v: { token: string; email: string; error?: string; passwordRule: string }): string {
  return layout(
    'Choose a new password',
    html`<h1>Choose a new password</h1>
<p class="lead">for <strong>${v.email}</strong></p>
${v.error ? html`<p class="alert" role="alert" id="reset-error">${v.error}</p>` : ''}
<form method="post" action="/account/reset" novalidate>
  <input type="hidden" name="token" value="${v.token}">
  <input type="text" name="username" autocomplete="username" value="${v.email}" hidden>
  <label for="new-password">New password</label>
  <input id="new-password" name="new_password" type="password" autocomplete="new-password" required autofocus aria-describedby="password-rule">
  <p class="note" id="password-rule">${v.passwordRule} This signs you out everywhere.</p>
  <button type="submit" class="primary">Set new password</button>
</form>`,
  );
}

export function linkDonePage(title: string, message: string, next?: { href: string; text: string }): string {
  return layout(
    title,
    html`<h1>${title}</h1>
<p class="lead">${message}</p>
${next ? html`<p><a href="${next.href}">${next.text}</a></p>` : ''}`,
  );
}

export function verifyPage(v: { token: string; email: string }): string {
  return layout(
    'Confirm your email',
    html`<h1>Confirm your email</h1>
<p class="lead">Confirm that <strong>${v.email}</strong> is your address.</p>
<form method="post" action="/account/verify">
  <input type="hidden" name="token" value="${v.token}">
  <button type="submit" class="primary" autofocus>Confirm</button>
</form>`,
  );
}
