// The public shape of an agent's canary report (GET /api/v1/agents/:type/canary): how often its
// candidate version agreed with the incumbent in shadow runs, with the disagreements; its request
// schemas, and the mapping from the report service.
import { z } from 'zod';
import { GATE_OPERATORS } from '../../domain/gates.js';
import { isoInstant } from '../../domain/instant.js';
import { SHADOW_STATUSES } from '../../domain/shadow-agreement.js';
import type { CanaryReport } from '../../services/canary-report.service.js';
import type { ShadowRunRecord } from '../../services/shadow.ports.js';
import { isoDate, jsonObject, toIso, toIsoOrNull, wholeNumberParam } from './common.schema.js';

export const CANARY_DEFAULT_LIMIT = 20;
export const CANARY_MAX_LIMIT = 100;

export const agentTypeParams = z.object({ type: z.string().min(1).max(64) });

export const canaryQuerySchema = z
  .object({
    since: isoInstant('an ISO 8601 date-time').optional(),
    limit: wholeNumberParam(1, CANARY_MAX_LIMIT).default(CANARY_DEFAULT_LIMIT),
  })
  .strict();

const scalar = z.union([z.number(), z.string(), z.boolean()]);

const shadowGateSchema = z.object({
  metric: z.string(),
  operator: z.enum(GATE_OPERATORS),
  threshold: scalar.nullable(),
  severity: z.enum(['blocking', 'warning']),
  value: scalar.nullable(),
  verdict: z.enum(['passed', 'failed', 'warned']),
  reason: z.string(),
});

const shadowStatus = z.enum(SHADOW_STATUSES).meta({
  description:
    '`succeeded`: an output within the contract, every blocking gate held; `gate_failed`: an output, a blocking gate did not hold; `failed`: the handler threw or timed out; `asked_clarification`.',
});

export const canaryDisagreementSchema = z
  .object({
    pipelineId: z.uuid(),
    stageKey: z.string(),
    runId: z.uuid().meta({ description: 'The incumbent’s stage run (GET /pipelines/:id/runs).' }),
    at: isoDate.meta({ description: 'When the shadow run was recorded.' }),
    reasons: z
      .array(z.string())
      .meta({ description: 'Why they disagreed, one line each: `gate coverage: incumbent pass, candidate fail`.' }),
    incumbent: z.object({ status: shadowStatus, gates: z.array(shadowGateSchema) }),
    candidate: z.object({
      status: shadowStatus,
      gates: z.array(shadowGateSchema),
      error: jsonObject.nullable().meta({ description: 'What the candidate failed with (`code`, `message`, …); null unless `failed`.' }),
    }),
  })
  .meta({ id: 'CanaryDisagreement' });

export const canaryReportSchema = z
  .object({
    agentType: z.string(),
    incumbentVersion: z.string(),
    candidateVersion: z.string().nullable().meta({ description: 'The agent’s `next` version; null: nothing runs in shadow.' }),
    shadowFlag: z.object({
      name: z.string().meta({ description: '`agent.<type>.shadow`.' }),
      defined: z.boolean().meta({ description: 'Whether the flag source (Unleash or FLAGS_FILE) defines it.' }),
    }),
    window: z.object({
      since: isoDate.nullable().meta({ description: 'The `since` asked for; null: every recorded run.' }),
      runs: z.number().int().meta({ description: 'Shadow runs of this version pair in the window.' }),
    }),
    agreed: z.number().int(),
    disagreed: z.number().int(),
    agreementRate: z.number().min(0).max(1).nullable().meta({ description: 'agreed / runs; null without runs.' }),
    disagreements: z.array(canaryDisagreementSchema).meta({ description: 'Newest first, at most `limit`.' }),
  })
  .meta({ id: 'CanaryReport' });

type DisagreementBody = z.input<typeof canaryDisagreementSchema>;

const toDisagreementBody = (run: ShadowRunRecord): DisagreementBody => ({
  pipelineId: run.pipelineId,
  stageKey: run.stageKey,
  runId: run.runId,
  at: toIso(run.finishedAt),
  reasons: run.disagreements,
  incumbent: { status: run.incumbent.status, gates: run.incumbent.gates },
  candidate: { status: run.candidate.status, gates: run.candidate.gates, error: run.candidate.error },
});

export const toCanaryReportBody = (report: CanaryReport): z.input<typeof canaryReportSchema> => ({
  agentType: report.agentType,
  incumbentVersion: report.incumbentVersion,
  candidateVersion: report.candidateVersion,
  shadowFlag: report.shadowFlag,
  window: { since: toIsoOrNull(report.window.since), runs: report.window.runs },
  agreed: report.agreed,
  disagreed: report.disagreed,
  agreementRate: report.agreementRate,
  disagreements: report.disagreements.map(toDisagreementBody),
});
