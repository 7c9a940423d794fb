import type { RouteGroup } from '../router.js';

// Routes of this group are being written; see the issue for the endpoints.
export const keyRoutes: RouteGroup = () => {};
