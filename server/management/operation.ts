import type Router from '@koa/router';
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Database } from '../db/database.js';
import type { Sealer } from '../crypto/seal.js';
import type { Logger } from '../logger.js';
import type { KeyRing } from '../services/keyring.js';
import type { Actor } from '../services/audit.js';
import type { ApiKeyUsage } from '../services/api-key-usage.js';
import type { MANAGEMENT_SCOPES } from '../services/permissions.js';
import type { RotationResult } from '../services/signing-key-schema.js';
import type { Protection } from '../services/protection/index.js';
import type { AccountMailDeps } from '../services/account-mail.js';
import { requires } from './authenticate.js';
import { readJson, validate } from './body.js';

export interface ManagementDeps {
  db: Database;
  issuer: string;
  keys: KeyRing;
  logger: Logger;
  /** Limits on guessing (services/protection): the bearer check counts failures. */
  protection: Protection;
  /** Counts requests made with API keys; GET /api-keys/{id}/usage writes this node's counts first. */
  apiKeyUsage: ApiKeyUsage;
  /** Seals webhook secrets at rest (crypto/seal.ts). */
  sealer: Sealer;
  /** Reloads signing keys and rebuilds the provider on this node (after a rotation). */
  reloadKeys(): Promise<void>;
  /** Rotates the signing keys (activateIn defaults to KEY_ACTIVATION_DELAY); this node uses them at once. */
  rotateKeys(options: { activateIn?: number; actor: Actor }): Promise<RotationResult>;
  /** Verification mail on user creation and email change (when SMTP is configured). */
  mail: AccountMailDeps;
  /**
   * Outside production, every response is parsed with its schema and one that does not match fails
   * (500), so that any test reaching it shows the drift; in production the cost is not paid.
   */
  checkResponses?: boolean;
}

export type Method = 'get' | 'post' | 'patch' | 'delete';

/** What the caller must hold: a Management API permission, any valid credential, or nothing. */
export type Access = keyof typeof MANAGEMENT_SCOPES | 'any credential' | 'public';

type Shape = z.ZodType | undefined;
type Parsed<S extends Shape> = S extends z.ZodType ? z.output<S> : undefined;

/**
 * One operation of the Management API, defined once: the router mounts it (permission check,
 * query and body validation, status) and the OpenAPI document describes it from the same fields,
 * its schemas generated from the zod schemas here (openapi/document.ts).
 */
export interface Operation<Q extends Shape = Shape, B extends Shape = Shape, R extends Shape = Shape> {
  /** The operationId. */
  id: string;
  method: Method;
  /** Under /api/v1, with Koa's :name parameters. */
  path: string;
  access: Access;
  tag: string;
  summary: string;
  description?: string;
  /** What each path parameter names. */
  params?: Record<string, string>;
  query?: Q;
  body?: B;
  /** A request without a body is taken as {} (e.g. POST /keys/rotate). */
  bodyOptional?: true;
  /** The success status, and the schema of its body (none for 204). */
  status: 200 | 201 | 204;
  response?: R;
  responseDescription: string;
  /**
   * Refusals beyond those the fields above imply (401/403 from access; 400, 413 and 415 from a
   * body; 400 from a query): each must be one the service can make.
   */
  errors?: (400 | 404 | 409)[];
  handle(ctx: Context, input: { query: Parsed<Q>; body: Parsed<B> }, deps: ManagementDeps): Promise<R extends z.ZodType ? z.input<R> : void>;
}

/** Infers an operation's input and output types from its schemas. */
export const operation = <Q extends Shape = undefined, B extends Shape = undefined, R extends Shape = undefined>(op: Operation<Q, B, R>) => op;

// Each operation's own types were checked where it was declared; a list of them holds any.
export type AnyOperation = Operation<any, any, any>;

/** A body is present when the request says it has one; an empty POST rotates with the defaults. */
const hasBody = (ctx: Context) => (ctx.request.length ?? 0) > 0 || Boolean(ctx.get('transfer-encoding'));

/** Names the fields that differ, never their values: a response can hold a secret shown once. */
function checkResponse(op: AnyOperation, result: unknown) {
  const checked = (op.response as z.ZodType).safeParse(result);
  if (checked.success) return;
  const where = checked.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new Error(`${op.id}: the response does not match its schema: ${where}`);
}

/** Registers operations on a router: the permission guard, then validated input, then the handler. */
export function mount(router: Router, operations: readonly AnyOperation[], deps: ManagementDeps): void {
  for (const op of operations) {
    const guard = op.access === 'public' || op.access === 'any credential' ? [] : [requires(op.access)];
    router[op.method](op.path, ...guard, async function handleOperation(ctx: Context) {
      const query = op.query ? validate(op.query, ctx.query) : undefined;
      const body = op.body ? (op.bodyOptional && !hasBody(ctx) ? validate(op.body, {}) : await readJson(ctx, op.body)) : undefined;
      const result = await op.handle(ctx, { query, body }, deps);
      if (deps.checkResponses && op.response) checkResponse(op, result);
      ctx.status = op.status;
      if (op.status !== 204) ctx.body = result;
    });
  }
}
