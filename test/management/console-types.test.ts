import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { openApiDocument } from '../../server/management/openapi/document.js';
import { OPERATIONS } from '../../server/management/operations.js';
import { CONSOLE_TYPES_FILE, consoleTypes } from '../../scripts/console-types.js';

/**
 * The console's types are generated from the OpenAPI document (npm run generate:types). The file is
 * checked in so that the console builds without a server; this fails when it is stale.
 */
describe('console types: console/src/api-types.ts', () => {
  it('is what npm run generate:types makes from the current document', async () => {
    const [checkedIn, fresh] = await Promise.all([readFile(CONSOLE_TYPES_FILE, 'utf8'), consoleTypes()]);
    expect(checkedIn === fresh, 'console/src/api-types.ts is stale: run npm run generate:types and commit it').to.equal(true);
  });

  it('goes stale when a schema changes: a document whose Client.client_name is a number gives other types', async () => {
    const checkedIn = await readFile(CONSOLE_TYPES_FILE, 'utf8');
    expect(checkedIn).to.match(/Client: \{[^}]*client_name: string \| null;/);
    const document = openApiDocument('https://gatehouse.invalid', OPERATIONS) as any;
    document.components.schemas.Client.properties.client_name = { type: 'number' };
    const changed = await consoleTypes(document);
    expect(changed).to.match(/Client: \{[^}]*client_name: number;/);
    expect(changed === checkedIn).to.equal(false);
  });
});
