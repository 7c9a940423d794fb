/** The Management API's objects as the console reads them (GET /api/v1/openapi.json documents them). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export type ClientType = 'web' | 'spa' | 'native' | 'service';

export interface Client {
  id: string;
  client_id: string;
  client_name: string | null;
  type: ClientType;
  grant_types: string[];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  token_endpoint_auth_method: string;
  scope: string;
  environment: 'live' | 'test';
  enabled: boolean;
  builtin: boolean;
  status: 'active' | 'suspended' | 'expired';
  ip_allowlist: string[];
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface ClientCreated extends Client {
  client_secret?: string;
}

export interface ClientSecret {
  id: string;
  prefix: string | null;
  hint: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface ClientSecretCreated extends ClientSecret {
  client_secret: string;
}

export interface ApiScope {
  name: string;
  description?: string;
}

export interface Api {
  id: string;
  identifier: string;
  name: string;
  scopes: ApiScope[];
  access_token_ttl: number;
  signing_alg: string;
  enforce_roles: boolean;
  builtin: boolean;
  created_at: string;
  updated_at: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
  roles: string[];
  active: boolean;
  created_at: string;
  updated_at: string;
  /** Sign-in locked out after repeated failures until then; null when not. */
  locked_until?: string | null;
}

export interface Role {
  id: string;
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  user_id: string;
  scopes: string[];
  environment: 'live' | 'test';
  ip_allowlist: string[];
  enabled: boolean;
  status: 'active' | 'disabled' | 'expired';
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
}

export interface ApiKeyCreated extends ApiKey {
  key: string;
}

export interface AuditEvent {
  id: string;
  type: string;
  occurred_at: string;
  actor: { type: string; id: string | null; ip: string | null };
  target: { type: string; id: string | null } | null;
  data: Record<string, unknown>;
}

export interface Me {
  kind: 'user' | 'api_key' | 'client';
  id: string;
  user: User | null;
  permissions: string[];
  /** The server's password rule: at least this many characters, and not a common or breached one. */
  password_min_length: number;
}

export interface SigningKey {
  id: string;
  kid: string;
  kty: string;
  algs: string[];
  status: 'pending' | 'active' | 'retired';
  created_at: string;
  activates_at: string;
  retired_at: string | null;
  published_until: string | null;
}

export interface RotationResult {
  keys: SigningKey[];
  retiring: string[];
}
