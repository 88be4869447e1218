// ESLint flat config: typescript-eslint's recommended rules (not type-checked, to stay fast),
// no console outside the CLI entries, and a fence that keeps I/O out of src/domain/.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Domain code is pure: it takes and returns plain objects and never touches a store, a socket or a file.
const DOMAIN_IS_PURE = 'Domain code is pure: no I/O here. Take what you need as plain data and let services/ or infra/ do the I/O.';

const IO_MODULES = [
  'bullmq',
  'ioredis',
  'pg',
  'express',
  'winston',
  'fs',
  'fs/promises',
  'node:fs',
  'node:fs/promises',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'child_process',
  'node:child_process',
];

// The layers (docs/architecture.md, "Layers"): each folder of src/ may import only the folders
// below it. Type-only imports of ports (the services/*.ports.ts files and the services' exported
// types) are how infra implements what services declare.
const LAYER = 'Layer rule (docs/architecture.md, "Layers"):';
const folders = (...names) => names.flatMap((name) => [`**/${name}`, `**/${name}/**`]);
const ENTRIES = ['**/main.js', '**/server.js', '**/worker.js', '**/cli.js', '**/db-migrate.js', '**/demo.js'];

/** `no-restricted-imports` for one layer: `forbidden` never, `typesOnly` for types only. */
const layer = (name, { forbidden, typesOnly = [] }) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: [...forbidden.flatMap((f) => folders(f)), ...ENTRIES], message: `${LAYER} ${name} may not import these.` },
        ...(typesOnly.length > 0
          ? [
              {
                group: typesOnly.flatMap((f) => folders(f)),
                allowTypeImports: true,
                message: `${LAYER} ${name} may import only types from these.`,
              },
            ]
          : []),
      ],
    },
  ],
});

export default defineConfig(
  // The project templates are linted by their own config, in the projects scaffold makes from them.
  globalIgnores([
    'src/generated/**',
    'node_modules/**',
    'dist/**',
    'coverage/**',
    'templates/projects/**',
    'dashboard/dist/**',
    'test-output/**',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    // This folder's tsconfig.json, not a template's (templates/projects/*/tsconfig.json).
    languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `const { secret: _secret, ...rest } = row` is how we drop a field, so rest siblings count as used.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-console': 'error',
    },
  },

  {
    // Entry points that talk to a terminal, and test/bench support code.
    files: ['src/cli.ts', 'src/db-migrate.ts', 'src/demo.ts', 'bench/**', 'test/support/**'],
    rules: { 'no-console': 'off' },
  },

  {
    // The dashboard (dashboard/src) runs in a browser: the DOM's globals are TypeScript's to check
    // (dashboard/tsconfig.json), and it reaches the platform through the REST API only, sharing
    // no more than pure domain tables (roles, statuses).
    files: ['dashboard/src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...folders('infra', 'http', 'jobs', 'services', 'composition', 'lifecycle', 'agents')],
              message: 'The dashboard talks to the REST API; it imports only src/domain/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Build scripts run under Node and report to the terminal.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  {
    // Mocha reads its config as CommonJS.
    files: ['.mocharc.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { process: 'readonly', module: 'writable' } },
  },

  {
    files: ['src/services/**'],
    rules: layer('services/', { forbidden: ['infra', 'http', 'jobs', 'dashboard', 'composition', 'lifecycle'], typesOnly: ['agents'] }),
  },
  {
    files: ['src/infra/**'],
    rules: layer('infra/', { forbidden: ['http', 'jobs', 'dashboard', 'composition', 'lifecycle'], typesOnly: ['services', 'agents'] }),
  },
  {
    files: ['src/http/**', 'src/dashboard/**'],
    rules: layer('http/ and dashboard/', { forbidden: ['jobs', 'composition', 'lifecycle'], typesOnly: ['infra'] }),
  },
  {
    files: ['src/jobs/**'],
    rules: layer('jobs/', {
      forbidden: ['http', 'dashboard', 'composition', 'lifecycle'],
      typesOnly: ['agents', 'infra/db', 'infra/events'],
    }),
  },
  {
    files: ['src/agents/**'],
    rules: layer('agents/', { forbidden: ['infra', 'http', 'jobs', 'dashboard', 'composition', 'lifecycle', 'services'] }),
  },
  {
    files: ['src/lifecycle/**'],
    rules: layer('lifecycle/', { forbidden: ['infra', 'http', 'jobs', 'dashboard', 'composition', 'services', 'agents'] }),
  },

  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({ name, message: DOMAIN_IS_PURE })),
          patterns: [
            {
              group: ['@prisma/*', '**/infra', '**/infra/**', '**/http', '**/http/**', '**/generated', '**/generated/**'],
              message: DOMAIN_IS_PURE,
            },
            {
              group: [...folders('services', 'agents', 'jobs', 'dashboard', 'composition', 'lifecycle'), '**/config.js', ...ENTRIES],
              message: `${LAYER} domain/ imports only domain/.`,
            },
          ],
        },
      ],
    },
  },
);
