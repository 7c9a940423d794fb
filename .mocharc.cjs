// Mocha's configuration for `npm test` (both CI passes).
const realServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

module.exports = {
  'node-option': ['import=tsx'],
  spec: ['test/**/*.test.ts'],
  timeout: 30000,
  exit: true,
  // A forgotten .only would silently run one test and report success.
  'forbid-only': true,
  // With Postgres and Redis every test can run, so a skipped one there is a test that did not run:
  // the pass fails. Skips are for the embedded pass only, where PGlite cannot do what is asked
  // (a second process, a second node), and each one says why.
  'forbid-pending': realServices,
};
