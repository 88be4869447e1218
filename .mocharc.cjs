// Mocha's config for `npm test`, `npx mocha` and `npm run test:cluster`.
// MOCHA_SPEC and MOCHA_IGNORE (comma-separated globs) choose the files, so that
// scripts/run-tests.mjs can run the suite as two processes at once and a developer can run one
// file with the same options: `MOCHA_SPEC=test/unit/dag.test.ts npx mocha`. (A spec given on
// mocha's command line is added to the config's, not put in its place.)
const ALL = ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/browser/**/*.test.ts'];

const list = (value) =>
  (value ?? '')
    .split(',')
    .map((glob) => glob.trim())
    .filter(Boolean);

const spec = list(process.env.MOCHA_SPEC);
const ignore = list(process.env.MOCHA_IGNORE);

module.exports = {
  'node-option': ['import=tsx'],
  extension: ['ts'],
  spec: spec.length > 0 ? spec : ALL,
  ...(ignore.length > 0 ? { ignore } : {}),
  require: ['test/support/root-hooks.ts'],
  timeout: 60000,
};
