import { html, type Html } from './html.js';

/** The frame of every interaction page: no scripts, one same-origin stylesheet. */
export function layout(title: string, body: Html, options: { wide?: boolean } = {}): string {
  return `<!doctype html>${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="/assets/gatehouse.css">
</head>
<body>
<main class="${options.wide ? 'card wide' : 'card'}">
<p class="brand" aria-hidden="true">Gatehouse</p>
${body}
</main>
</body>
</html>`}`;
}
