import { openApiDocument } from '../openapi/document.js';
import type { RouteGroup } from '../router.js';

/** GET /api/v1/openapi.json: public, like a discovery document; built once per process. */
export const openApiRoutes: RouteGroup = (router, deps) => {
  let body: string | undefined;
  router.get('/openapi.json', (ctx) => {
    body ??= JSON.stringify(openApiDocument(deps.issuer));
    ctx.type = 'application/json';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = body;
  });
};
