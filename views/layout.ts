import { html, type Html } from './html.js';

/**
 * The frame of every interaction page: one same-origin stylesheet, and scripts only on pages that
 * offer passkeys (WebAuthn needs JavaScript): SimpleWebAuthn's browser bundle and ours, both served
 * from this origin (see server/http/pages.ts for the matching CSP). `wide`: the /account pages.
 */
export function layout(title: string, body: Html, options: { passkeys?: boolean; wide?: boolean } = {}): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
${options.passkeys ? html`<script src="/assets/webauthn.js" defer></script>
<script src="/assets/passkeys.js" defer></script>
` : ''}</head>
<body>
<main class="${options.wide ? 'card wide' : 'card'}">
<p class="brand" aria-hidden="true">Gatehouse</p>
${body}
</main>
</body>
</html>`}`;
}
