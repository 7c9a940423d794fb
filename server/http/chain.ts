import type { Middleware } from 'koa';

/** Middleware run in order, as app.use would, ending in the `next` they are given. */
export function chain<T extends Middleware>(...middleware: T[]): T {
  return function chained(ctx, next) {
    const step = (i: number): Promise<unknown> => (i === middleware.length ? next() : Promise.resolve(middleware[i](ctx, () => step(i + 1))));
    return step(0) as Promise<void>;
  } as T;
}
