// ESLint's recommended rules and typescript-eslint's, over the sources and the tests.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig({ ignores: ['dist/'] }, eslint.configs.recommended, tseslint.configs.recommended);
