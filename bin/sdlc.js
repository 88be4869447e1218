#!/usr/bin/env node
// `sdlc` from a checkout (`npx sdlc …`, or on PATH after `npm link`): runs the TypeScript entry
// src/cli.ts under tsx, as `npm run cli` does, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
