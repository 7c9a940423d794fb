import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The admin console: a Preact single-page app built to dist/console, which the server serves at
 * /console (server/console/static.ts). Everything it needs ships in the bundle: no CDN, no fonts,
 * and no inline script or style, so the page's CSP can stay at script-src 'self'.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  // Preact's automatic JSX runtime (oxc is Vite 8's transformer).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    // The module-preload polyfill would be an inline script; every browser we support has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
});
