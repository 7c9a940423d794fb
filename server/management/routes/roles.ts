import { principalOf } from '../authenticate.js';
import { operation } from '../operation.js';
import { pageSchema } from '../../services/pagination.js';
import { createRole, createRoleSchema, deleteRole, getRole, listAllRoles, roleSchema, updateRole, updateRoleSchema } from '../../services/roles.js';

const NAME = { name: 'The role name.' };
const tag = 'roles';
const rolePage = pageSchema(roleSchema);

/** Two paths list the same roles. */
const listing = (id: string, path: string, summary: string, description: string) =>
  operation({
    id, method: 'get', path, access: 'roles:read', tag, summary, description,
    status: 200, response: rolePage, responseDescription: 'The roles',
    handle: (_ctx, _input, { db }) => listAllRoles(db),
  });

/** Roles: named sets of permissions. /user-roles lists the same roles (the name the issue uses). */
export const roleOperations = [
  listing('listRoles', '/roles', 'List roles', 'Every role, on one page.'),
  listing('listUserRoles', '/user-roles', 'List the roles users can have', 'The same list as GET /roles.'),
  operation({
    id: 'createRole', method: 'post', path: '/roles', access: 'roles:write', tag,
    summary: 'Create a custom role',
    body: createRoleSchema,
    status: 201, response: roleSchema, responseDescription: 'The role',
    errors: [409],
    handle: (ctx, { body }, { db }) => createRole(db, body, principalOf(ctx)),
  }),
  operation({
    id: 'getRole', method: 'get', path: '/roles/:name', access: 'roles:read', tag, params: NAME,
    summary: 'Get a role',
    status: 200, response: roleSchema, responseDescription: 'The role',
    errors: [404],
    handle: (ctx, _input, { db }) => getRole(db, ctx.params.name),
  }),
  operation({
    id: 'updateRole', method: 'patch', path: '/roles/:name', access: 'roles:write', tag, params: NAME,
    summary: 'Change a custom role',
    description: 'Applies to the existing keys and next tokens of every user with the role, at once. Built-in roles are read-only (403).',
    body: updateRoleSchema,
    status: 200, response: roleSchema, responseDescription: 'The changed role',
    errors: [404],
    handle: (ctx, { body }, { db }) => updateRole(db, ctx.params.name, body, principalOf(ctx)),
  }),
  operation({
    id: 'deleteRole', method: 'delete', path: '/roles/:name', access: 'roles:write', tag, params: NAME,
    summary: 'Delete a custom role',
    description: 'Built-in roles are read-only (403).',
    status: 204, responseDescription: 'Deleted',
    errors: [404],
    handle: (ctx, _input, { db }) => deleteRole(db, ctx.params.name, principalOf(ctx)),
  }),
];
