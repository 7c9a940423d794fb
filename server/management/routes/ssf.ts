import { z } from 'zod';
import { operation } from '../operation.js';
import { streamOverview, streamOverviewSchema } from '../../services/ssf/streams.js';

/**
 * Shared Signals streams, for administrators (the console's Resource servers page). Receivers manage
 * their own streams at /ssf (SSF 1.0); this is the view across all of them. Needs clients:read: each
 * stream belongs to a client, and shows nothing secret.
 */
export const ssfOperations = [
  operation({
    id: 'listSsfStreams', method: 'get', path: '/ssf-streams', access: 'clients:read', tag: 'ssf',
    summary: 'List Shared Signals streams with their receivers, last delivery and lag',
    status: 200, response: z.strictObject({ data: z.array(streamOverviewSchema) }), responseDescription: 'Every stream',
    handle: (_ctx, _input, { db }) => streamOverview(db),
  }),
];
