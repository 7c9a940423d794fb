import { html, type Html } from './html.js';

/**
 * A form that runs a WebAuthn ceremony (views/passkeys.js): it asks `options` for the ceremony's
 * options, has the browser make or use a passkey, and posts the answer to `action`. Hidden until
 * the script finds WebAuthn in the browser, so a page without scripts shows nothing broken.
 */
export function passkeyForm(v: { kind: 'sign-in' | 'register'; options: string; action: string; csrf: string; label: string; secondary?: boolean; fields?: Html }): Html {
  return html`<form method="post" action="${v.action}" data-passkey="${v.kind}" data-options="${v.options}" class="passkey-form" hidden>
  <input type="hidden" name="csrf" value="${v.csrf}">
  ${v.fields ?? ''}
  <p class="alert" role="alert" data-passkey-error hidden></p>
  <button type="submit" class="${v.secondary ? 'secondary' : 'primary'}">${v.label}</button>
</form>`;
}
