import { html, Html } from './html.js';
import { layout } from './layout.js';

/** RP-initiated logout confirmation; `form` is oidc-provider's hidden form (xsrf token included). */
export function logoutPage(form: string, clientName?: string): string {
  return layout(
    'Sign out',
    html`<h1>Sign out${clientName ? html` of ${clientName}` : ''}?</h1>
<p class="lead">You will be signed out of Gatehouse on this device.</p>
${new Html(form)}
<div class="actions">
  <button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>
  <button type="submit" form="op.logoutForm" name="logout" value="yes" class="primary" autofocus>Sign out</button>
</div>`,
  );
}

export function loggedOutPage(clientName?: string): string {
  return layout(
    'Signed out',
    html`<h1>You are signed out</h1>
<p class="lead">${clientName ? html`You have been signed out of ${clientName}.` : 'You have been signed out.'} You can close this window.</p>`,
  );
}
