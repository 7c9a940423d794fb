/**
 * The Management API's own permissions, each a `resource:action` scope, with the words people read
 * (consent page, console). No imports: the console's bundle includes this file too.
 */
export const MANAGEMENT_SCOPES: Record<string, string> = {
  'clients:read': 'View API credentials (clients)',
  'clients:write': 'Create API credentials; change, rotate and revoke the ones you created',
  'clients:admin': 'Change, rotate, suspend and revoke API credentials that others created',
  'apis:read': 'View registered APIs and their scopes',
  'apis:write': 'Register and change APIs',
  'users:read': 'View users',
  'users:write': 'Create and change users and their roles; manage other users’ API keys',
  'users:delete': 'Delete users',
  'roles:read': 'View roles',
  'roles:write': 'Create and change roles',
  'api-keys:read': 'View API keys',
  'api-keys:write': 'Create and revoke your API keys',
  'audit:read': 'Read the audit log',
  'keys:write': 'Rotate the signing keys',
  'webhooks:read': 'View webhook endpoints and their deliveries',
  'webhooks:write': 'Register, change and remove webhook endpoints (they receive the audit log)',
};
