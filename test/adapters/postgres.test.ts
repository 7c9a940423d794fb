import { PostgresArtifactStore } from '../../adapters/postgres.js';
import { migrate } from '../../server/db/migrate.js';
import { createPostgresDatabase } from '../../server/db/postgres.js';
import { createTestDatabase, dropTestDatabase } from '../support/server.js';
import { artifactStoreContract } from './contract.js';

if (!process.env.DATABASE_URL) {
  describe('ArtifactStore contract: postgres', () => {
    it.skip('skipped: set DATABASE_URL to a real Postgres to run it (the PGlite variant runs without)');
  });
} else {
  artifactStoreContract('postgres (real server, fresh database)', async () => {
    const url = (await createTestDatabase())!;
    const db = createPostgresDatabase(url);
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      await dropTestDatabase(url);
      throw err;
    }
    return {
      store: new PostgresArtifactStore(db),
      async close() {
        await db.close();
        await dropTestDatabase(url);
      },
    };
  });
}
