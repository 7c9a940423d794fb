import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { Context, Next } from 'koa';
import { projectPath } from '../paths.js';

/**
 * The console's page may run its own bundled scripts and talk to this origin, and nothing else: no
 * inline script or style, no other origin, no frames. The discovery document, token endpoint and
 * Management API are all on 'self'.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Every file of the built console (dist/console, from `npm run build`), read once at start. */
function readBuild(dir: string): Map<string, Asset> {
  const files = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(`/${relative(dir, path).split(sep).join('/')}`, { body: readFileSync(path), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk(dir);
  return files;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Console not built</title>
<link rel="stylesheet" href="/assets/gatehouse.css"><body><main class="card"><h1>The console has not been built</h1>
<p class="lead">Run <code>npm run build</code> (npm install runs it too), then restart the server.</p></main></body></html>`;

function securityHeaders(ctx: Context) {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
}

/**
 * Serves the console at /console: hashed assets (cached for a year: their names change with their
 * content) and, for every other path under /console, the page itself (the console routes in the
 * browser), never cached so that a new build is picked up at once.
 */
export function consoleRoutes(dir = projectPath('dist', 'console')) {
  const files = existsSync(join(dir, 'index.html')) ? readBuild(dir) : undefined;
  return async function serveConsole(ctx: Context, next: Next) {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.body = { error: 'invalid_request', error_description: `${ctx.method} is not allowed here` };
      return;
    }
    if (ctx.path === '/console') {
      ctx.status = 301;
      ctx.redirect('/console/');
      return;
    }
    securityHeaders(ctx);
    if (!files) {
      ctx.status = 503;
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = NOT_BUILT;
      return;
    }
    const asset = files.get(ctx.path.slice('/console'.length));
    if (asset && ctx.path.startsWith('/console/assets/')) {
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.type = asset.type;
      ctx.body = asset.body;
      return;
    }
    if (ctx.path.startsWith('/console/assets/')) {
      ctx.status = 404;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = 'Not found';
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = files.get('/index.html')!.body;
  };
}
