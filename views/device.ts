import { html } from './html.js';
import { layout } from './layout.js';

/** The /device pages of the device authorization grant (RFC 8628 §3.3): enter the code, confirm it, done. */

export interface DeviceCodeView {
  action: string;
  xsrf: string;
  /** What the person typed, when it was wrong. */
  userCode?: string;
  error?: string;
}

export function deviceCodePage(v: DeviceCodeView): string {
  return layout(
    'Connect a device',
    html`<h1>Connect a device</h1>
<p class="lead">Enter the code shown on your device or in your terminal.</p>
${v.error ? html`<p class="alert" role="alert" id="code-error">${v.error}</p>` : ''}
<form method="post" action="${v.action}" novalidate>
  <input type="hidden" name="xsrf" value="${v.xsrf}">
  <label for="user_code">Code</label>
  <input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false"
    placeholder="XXXX-XXXX" required autofocus value="${v.userCode ?? ''}"${v.error ? html` aria-describedby="code-error"` : ''}>
  <button type="submit" class="primary">Continue</button>
</form>`,
  );
}

export interface DeviceConfirmView {
  action: string;
  xsrf: string;
  userCode: string;
  clientName: string;
}

export function deviceConfirmPage(v: DeviceConfirmView): string {
  return layout(
    'Confirm the device',
    html`<h1>Connect ${v.clientName}?</h1>
<p class="lead">Check that your device shows this code:</p>
<p class="user-code"><code>${v.userCode}</code></p>
<p class="note">If you did not start this, or the code differs, cancel: someone may be trying to use your account.</p>
<div class="actions">
  <form method="post" action="${v.action}">
    <input type="hidden" name="xsrf" value="${v.xsrf}">
    <input type="hidden" name="user_code" value="${v.userCode}">
    <input type="hidden" name="abort" value="yes">
    <button type="submit" class="secondary">Cancel</button>
  </form>
  <form method="post" action="${v.action}">
    <input type="hidden" name="xsrf" value="${v.xsrf}">
    <input type="hidden" name="user_code" value="${v.userCode}">
    <input type="hidden" name="confirm" value="yes">
    <button type="submit" class="primary" autofocus>Continue</button>
  </form>
</div>`,
  );
}

export function deviceDonePage(clientName: string): string {
  return layout(
    'Device connected',
    html`<h1>Device connected</h1>
<p class="lead"><strong>${clientName}</strong> is signed in. You can close this page and return to your device.</p>`,
  );
}
