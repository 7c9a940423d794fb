import type { components } from './api-types.js';

/**
 * The Management API's objects as the console reads them: names for the types generated from
 * GET /api/v1/openapi.json into api-types.ts (npm run generate:types), which the server builds from
 * the same zod schemas it validates with. Nothing here is written by hand.
 */
type Schemas = components['schemas'];

/** Any list: { data, next_cursor }. */
export interface Page<T> {
  data: T[];
  next_cursor: Schemas['ClientPage']['next_cursor'];
}

export type Client = Schemas['Client'];
export type ClientType = Client['type'];
export type ClientCreated = Schemas['ClientCreated'];
export type ClientSecret = Schemas['ClientSecret'];
export type ClientSecretCreated = Schemas['ClientSecretCreated'];
export type ApiScope = Schemas['ApiScope'];
export type Api = Schemas['Api'];
export type User = Schemas['User'];
export type PasswordResetLink = Schemas['PasswordResetLink'];
export type Role = Schemas['Role'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type ApiKeyUsage = Schemas['ApiKeyUsage'];
export type KeyRevealStatement = Schemas['KeyRevealStatement'];
export type AuditEvent = Schemas['AuditLogEntry'];
export type Me = Schemas['Me'];
export type SigningKey = Schemas['SigningKey'];
export type RotationResult = Schemas['KeyRotation'];
export type SsfStream = Schemas['SsfStream'];
export type ErrorBody = Schemas['Error'];
export type Webhook = Schemas['Webhook'];
export type WebhookCreated = Schemas['WebhookCreated'];
export type WebhookDelivery = Schemas['WebhookDelivery'];

/** Request bodies, for forms that build one. */
export type ClientCreate = Schemas['ClientCreate'];
export type ClientUpdate = Schemas['ClientUpdate'];
export type ApiCreate = Schemas['ApiCreate'];
export type ApiUpdate = Schemas['ApiUpdate'];
export type UserCreate = Schemas['UserCreate'];
export type UserUpdate = Schemas['UserUpdate'];
export type RoleCreate = Schemas['RoleCreate'];
export type RoleUpdate = Schemas['RoleUpdate'];
export type ApiKeyCreate = Schemas['ApiKeyCreate'];
export type ApiKeyUpdate = Schemas['ApiKeyUpdate'];
