import Router from '@koa/router';
import type { Runtime } from '../runtime.js';

const within = <T>(ms: number, p: Promise<T>) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timed out')), ms).unref())]);

/** /healthz: the process answers. /readyz: it can reach its database and Redis (else 503). */
export function healthRoutes(runtime: Pick<Runtime, 'db' | 'redis'>): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const check = async (fn: () => Promise<unknown>) => {
      try {
        await within(1500, fn());
        return 'ok';
      } catch {
        return 'unavailable';
      }
    };
    const checks: Record<string, string> = { database: await check(() => runtime.db.ping()) };
    if (runtime.redis) checks.redis = await check(() => runtime.redis!.ping());
    const ready = Object.values(checks).every((c) => c === 'ok');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks };
  });
  return router;
}
