export { ResourceServer, type AccessToken, type ResourceServerOptions, type VerifyOptions } from './resource-server.js';
export { TokenError } from './errors.js';
export { Revocations, membersOf } from './revocations.js';
export { authenticateRequest, expressMiddleware, koaMiddleware, protect, refuse } from './middleware.js';
export { expressPushReceiver, koaPushReceiver, pushReceiver } from './push-middleware.js';
export type { PushAnswer, PushOptions } from './push.js';
export type { DpopRequest } from './dpop.js';
