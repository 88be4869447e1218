// The SDLC stages as simulated agents (`sim_*`, for tests and the sdlc-simulated template): they do
// no work, and their default metrics pass the default gates. The real agents own the plain names.
import { defineSimulatedAgent } from './simulated-agent.js';

export const simScaffoldAgent = defineSimulatedAgent({
  type: 'sim_scaffold',
  description: 'Lays out the project skeleton',
  metrics: { filesCreated: 12 },
  summary: 'project scaffolded',
});

export const simValidationAgent = defineSimulatedAgent({
  type: 'sim_validation',
  description: 'Type-checks, lints and measures coverage',
  metrics: { typeErrors: 0, lintErrors: 0, testsPassed: 42, testsFailed: 0, coverage: 86 },
  summary: 'validation finished',
});

export const simE2eTestAgent = defineSimulatedAgent({
  type: 'sim_e2e_test',
  description: 'Runs the end-to-end suite',
  metrics: { passed: 42, failed: 0 },
  summary: 'end-to-end tests finished',
});

export const simIntegrationAgent = defineSimulatedAgent({
  type: 'sim_integration',
  description: 'Merges the work and resolves conflicts',
  metrics: { conflicts: 0 },
  summary: 'integrated',
});

export const simDeploymentAgent = defineSimulatedAgent({
  type: 'sim_deployment',
  description: 'Deploys the application and probes its health',
  metrics: { healthCheck: 'ok' },
  summary: 'deployed',
});

export const SIMULATED_SDLC_AGENTS = [simScaffoldAgent, simValidationAgent, simE2eTestAgent, simIntegrationAgent, simDeploymentAgent];
