import Router from '@koa/router';
import type { AccountDeps } from './deps.js';
import { mountLinkRoutes } from './links.js';
import { mountAccountPage } from './page.js';

export type { AccountDeps } from './deps.js';

/** Everything under /account: the account page and the pages behind emailed links. */
export function accountRoutes(deps: AccountDeps): Router {
  const router = new Router({ prefix: '/account' });
  mountLinkRoutes(router, deps);
  mountAccountPage(router, deps);
  return router;
}
