import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresArtifactStore } from '../../adapters/postgres.js';
import { createEmbeddedDatabase } from '../../server/db/embedded.js';
import { migrate } from '../../server/db/migrate.js';
import { artifactStoreContract } from './contract.js';

// Embedded mode keeps every artifact in PGlite through the same PostgresArtifactStore; PGlite is a
// different engine underneath (single connection, WASM), so it gets its own run of the contract.
artifactStoreContract('PGlite (embedded, temporary data dir)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
  const db = await createEmbeddedDatabase(dir);
  await migrate(db);
  return {
    store: new PostgresArtifactStore(db),
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
