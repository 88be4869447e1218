// A pipeline as GET /pipelines/:id answers it, with one stage: the CLI's unit tests build their
// views from it. Each test states only what it is about (`pipeline` and `stage` overrides); the
// rest is a finished-looking default that pipelineSchema accepts.
import { pipelineSchema } from '../../src/http/contract/pipelines.schema.js';

export const PIPELINE_ID = '96b14add-122e-4f1a-b89d-9b15f420f463';
const STAGE_ID = 'f625f7c1-83f6-4e46-b9be-c98463812a02';
const AT = '2026-12-07T13:20:35.401Z';

type Loose = Record<string, unknown>;

export function pipelineBody(overrides: { pipeline?: Loose; stage?: Loose } = {}): ReturnType<typeof pipelineSchema.parse> {
  const stage = {
    id: STAGE_ID,
    key: 'only',
    agent: 'noop',
    dependsOn: [],
    input: {},
    retry: { attempts: 1, backoff: { type: 'exponential', delayMs: 1000, jitter: 0.5 } },
    timeoutMs: null,
    continueOnFailure: false,
    gates: [],
    category: 'technical_refactor',
    confidence: null,
    status: 'running',
    attempts: 1,
    progress: 0,
    output: null,
    error: null,
    queuedAt: AT,
    startedAt: AT,
    finishedAt: null,
    durationMs: null,
    agentVersion: '1.0.0',
    variant: null,
    jobId: STAGE_ID,
    queue: 'agent.noop',
    reused: null,
    ...overrides.stage,
  };
  return pipelineSchema.parse({
    id: PIPELINE_ID,
    name: 'fixture',
    status: 'running',
    template: null,
    input: {},
    error: null,
    createdAt: AT,
    updatedAt: '2026-12-07T13:20:35.593Z',
    startedAt: AT,
    finishedAt: null,
    cancelRequestedAt: null,
    policyVersion: '2026-11-29.1',
    submitter: 'admin',
    labels: {},
    traceId: null,
    paused: null,
    priority: 'normal',
    deadlineAt: null,
    cancelReason: null,
    schedule: null,
    durationMs: null,
    decisions: [],
    clarifications: [],
    rerunOf: null,
    rerunFrom: [],
    reruns: [],
    stages: [stage],
    stagesNextCursor: null,
    ...overrides.pipeline,
  });
}
