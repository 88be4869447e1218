// The SDLC stages as built-in (simulated) agents; their default metrics pass the default gates.
import { defineSimulatedAgent } from './simulated-agent.js';

export const scaffoldAgent = defineSimulatedAgent({
  type: 'scaffold',
  description: 'Lays out the project skeleton',
  metrics: { filesCreated: 12 },
  summary: 'project scaffolded',
});

export const validationAgent = defineSimulatedAgent({
  type: 'validation',
  description: 'Type-checks, lints and measures coverage',
  metrics: { typeErrors: 0, lintErrors: 0, coverage: 86 },
  summary: 'validation finished',
});

export const e2eTestAgent = defineSimulatedAgent({
  type: 'e2e_test',
  description: 'Runs the end-to-end suite',
  metrics: { passed: 42, failed: 0 },
  summary: 'end-to-end tests finished',
});

export const integrationAgent = defineSimulatedAgent({
  type: 'integration',
  description: 'Merges the work and resolves conflicts',
  metrics: { conflicts: 0 },
  summary: 'integrated',
});

export const deploymentAgent = defineSimulatedAgent({
  type: 'deployment',
  description: 'Deploys the application and probes its health',
  metrics: { healthCheck: 'ok' },
  summary: 'deployed',
});

export const SDLC_AGENTS = [scaffoldAgent, validationAgent, e2eTestAgent, integrationAgent, deploymentAgent];
