import { streamOverviewSchema } from '../../services/ssf/streams.js';
import { z } from 'zod';
import { apiKeyCreatedSchema, apiKeySchema, createApiKeySchema, updateApiKeySchema } from '../../services/api-keys.js';
import { rollApiKeySchema } from '../../services/api-key-roll.js';
import { apiKeyUsageSchema } from '../../services/api-key-usage-report.js';
import { keyRevealStatementSchema, updateKeyRevealStatementSchema } from '../../services/key-reveal-statement.js';
import { apiSchema, apiScopeSchema, createApiSchema, updateApiSchema } from '../../services/apis.js';
import { auditEventSchema } from '../../services/audit.js';
import { auditLogEntrySchema } from '../../services/audit-log.js';
import {
  clientCreatedSchema, clientSchema, clientSecretCreatedSchema, clientSecretSchema, createClientSchema, rotateClientSecretSchema,
  updateClientSchema,
} from '../../services/clients.js';
import { errorSchema } from '../../services/errors.js';
import { createRoleSchema, roleSchema, updateRoleSchema } from '../../services/roles.js';
import { keyRotationSchema, signingKeySchema } from '../../services/signing-key-schema.js';
import { createUserSchema, updateUserSchema, userSchema } from '../../services/users.js';
import {
  createWebhookSchema, deliverySchema, rotateWebhookSecretSchema, updateWebhookSchema, webhookCreatedSchema, webhookSchema,
} from '../../services/webhooks.js';
import { resetLinkSchema } from '../../services/password-reset.js';
import { rotateBody } from '../routes/keys.js';
import { meSchema } from '../routes/me.js';

type Json = Record<string, unknown>;

/**
 * The names of the document's components.schemas, and so of the console's generated types. A
 * schema not named here is written inline; a page of a named item is named <Item>Page.
 */
const NAMES: [z.ZodType, string][] = [
  [errorSchema, 'Error'],
  [meSchema, 'Me'],
  [clientSchema, 'Client'],
  [clientCreatedSchema, 'ClientCreated'],
  [createClientSchema, 'ClientCreate'],
  [updateClientSchema, 'ClientUpdate'],
  [clientSecretSchema, 'ClientSecret'],
  [clientSecretCreatedSchema, 'ClientSecretCreated'],
  [rotateClientSecretSchema, 'ClientSecretCreate'],
  [apiScopeSchema, 'ApiScope'],
  [apiSchema, 'Api'],
  [createApiSchema, 'ApiCreate'],
  [updateApiSchema, 'ApiUpdate'],
  [userSchema, 'User'],
  [createUserSchema, 'UserCreate'],
  [updateUserSchema, 'UserUpdate'],
  [resetLinkSchema, 'PasswordResetLink'],
  [roleSchema, 'Role'],
  [createRoleSchema, 'RoleCreate'],
  [updateRoleSchema, 'RoleUpdate'],
  [apiKeySchema, 'ApiKey'],
  [apiKeyCreatedSchema, 'ApiKeyCreated'],
  [createApiKeySchema, 'ApiKeyCreate'],
  [updateApiKeySchema, 'ApiKeyUpdate'],
  [rollApiKeySchema, 'ApiKeyRoll'],
  [apiKeyUsageSchema, 'ApiKeyUsage'],
  [keyRevealStatementSchema, 'KeyRevealStatement'],
  [updateKeyRevealStatementSchema, 'KeyRevealStatementUpdate'],
  [auditEventSchema, 'AuditEvent'],
  [auditLogEntrySchema, 'AuditLogEntry'],
  [signingKeySchema, 'SigningKey'],
  [keyRotationSchema, 'KeyRotation'],
  [rotateBody, 'KeyRotate'],
  [webhookSchema, 'Webhook'],
  [webhookCreatedSchema, 'WebhookCreated'],
  [createWebhookSchema, 'WebhookCreate'],
  [updateWebhookSchema, 'WebhookUpdate'],
  [rotateWebhookSecretSchema, 'WebhookSecretRotate'],
  [deliverySchema, 'WebhookDelivery'],
  [streamOverviewSchema, 'SsfStream'],
];

const DEFS = '#/$defs/';
const COMPONENTS = '#/components/schemas/';

/**
 * JSON Schemas (draft 2020-12, the dialect of OpenAPI 3.1) generated from the zod schemas with
 * z.toJSONSchema. Request bodies and query parameters are read as zod parses them (io: 'input': a
 * field with a default is optional, a transform's input is what is sent); responses as the server
 * writes them (io: 'output': every field present, objects closed).
 */
export class SchemaCatalogue {
  readonly errorSchema = errorSchema;
  private readonly names = new Map<z.ZodType, string>(NAMES);
  private readonly schemas: Record<string, Json> = {};
  private readonly modes = new Map<string, 'input' | 'output'>();
  /** What z.toJSONSchema reads of each schema: its .meta() (descriptions, examples) and our name for it. */
  private readonly metadata = {
    get: (schema: z.ZodType) => {
      const meta = z.globalRegistry.get(schema);
      const id = this.names.get(schema);
      return id ? { ...meta, id } : meta;
    },
  } as unknown as typeof z.globalRegistry;

  request = (schema: z.ZodType) => this.convert(schema, 'input');
  response = (schema: z.ZodType) => this.convert(schema, 'output');

  /** One parameter per field of a query schema; its description moves up to the parameter. */
  queryParameters(query: z.ZodObject): Json[] {
    return Object.entries(query.shape).map(([name, field]) => {
      const { description, ...schema } = this.convert(field as z.ZodType, 'input');
      return { name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, ...(description ? { description } : {}), schema };
    });
  }

  components(): Record<string, Json> {
    return Object.fromEntries(Object.entries(this.schemas).sort(([a], [b]) => a.localeCompare(b)));
  }

  private convert(schema: z.ZodType, io: 'input' | 'output'): Json {
    this.namePage(schema);
    const generated = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io,
      metadata: this.metadata,
      unrepresentable: 'throw',
      override({ jsonSchema }) {
        // zod adds a long regular expression to z.iso.datetime(); the format says it for people and tools.
        if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
      },
    }) as Json;
    const { $schema: _dialect, $defs, ...root } = JSON.parse(JSON.stringify(generated).replaceAll(`"${DEFS}`, `"${COMPONENTS}`)) as Json;
    for (const [id, def] of Object.entries(($defs ?? {}) as Record<string, Json>)) this.keep(id, def, io);
    return root;
  }

  /** A named schema is written once; used both as a request and as a response it would differ. */
  private keep(id: string, def: Json, io: 'input' | 'output') {
    const mode = this.modes.get(id);
    if (mode && mode !== io) throw new Error(`schema ${id} is used both in requests and in responses: give each side its own schema`);
    this.modes.set(id, io);
    this.schemas[id] = def;
  }

  /** { data: Item[], next_cursor } of a named Item is named ItemPage. */
  private namePage(schema: z.ZodType) {
    if (this.names.has(schema) || !(schema instanceof z.ZodObject)) return;
    const { data, next_cursor: cursor } = schema.shape as Record<string, z.ZodType>;
    if (!(data instanceof z.ZodArray) || !cursor || Object.keys(schema.shape).length !== 2) return;
    const item = this.names.get(data.element as z.ZodType);
    if (item) this.names.set(schema, `${item}Page`);
  }
}
