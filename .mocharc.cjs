// Mocha's configuration for `npm test` (both CI passes).
const realServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

module.exports = {
  // no-wasm-code-gc: V8 then never frees the embedded database's WebAssembly code while the runner
  // lives. Freeing it under churn (hundreds of PGlite instances in one process) can trip a fatal V8
  // check on Node 24 (nodejs/node#64500, "jit_page_->allocations_.erase"); server/db/embedded.ts
  // also compiles PGlite once per process for the same reason.
  'node-option': ['import=tsx', 'no-wasm-code-gc'],
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
