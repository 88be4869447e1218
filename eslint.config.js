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

export default defineConfig(
  globalIgnores(['src/generated/**', 'node_modules/**', 'dist/**', 'coverage/**']),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `const { secret: _secret, ...rest } = row` is how we drop a field, so rest siblings count as used.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-console': 'error',
    },
  },

  {
    // Entry points that talk to a terminal, and test/bench support code.
    files: ['src/cli.ts', 'src/db-migrate.ts', 'bench/**', 'test/support/**'],
    rules: { 'no-console': 'off' },
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
          ],
        },
      ],
    },
  },
);
