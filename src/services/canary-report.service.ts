// The canary report of an agent type (GET /api/v1/agents/:type/canary): how often its candidate
// (`next`) version agreed with the incumbent in shadow runs, with the latest disagreements. It
// counts the runs of the version pair the catalogue registers now, so a new candidate starts
// from a clean slate.
import { NotFoundError } from '../domain/errors.js';
import { agentFlagNames } from '../domain/feature-flags.js';
import type { FeatureFlags } from './flags.ports.js';
import type { ShadowRunReader, ShadowRunRecord } from './shadow.ports.js';

/** What the report needs of an agent: its type and its two versions. */
export interface CanaryAgent {
  type: string;
  version: string;
  nextVersion: string | undefined;
}

export interface CanaryReportDeps {
  agents: readonly CanaryAgent[];
  reader: ShadowRunReader;
  flags: Pick<FeatureFlags, 'isEnabled'>;
}

export interface CanaryQuery {
  /** Runs finished at or after this instant; absent: all of them. */
  since?: Date;
  /** How many disagreements to list, newest first. */
  limit: number;
}

export interface CanaryReport {
  agentType: string;
  incumbentVersion: string;
  /** Null when the agent registers no `next` version: nothing runs in shadow. */
  candidateVersion: string | null;
  shadowFlag: { name: string; defined: boolean };
  window: { since: Date | null; runs: number };
  agreed: number;
  disagreed: number;
  /** agreed / runs; null without runs. */
  agreementRate: number | null;
  disagreements: ShadowRunRecord[];
}

// Any fixed pipeline id: evaluating with one makes a percentage rollout deterministic, so two
// evaluations differ only by their fallback, which is used only when the flag is not defined.
const PROBE_CONTEXT_PIPELINE = '00000000-0000-0000-0000-000000000000';

export function createCanaryReports({ agents, reader, flags }: CanaryReportDeps) {
  const byType = new Map(agents.map((a) => [a.type, a]));

  /** Whether the flag source defines the flag (the port answers the fallback only for an unknown flag). */
  function flagDefined(name: string, agentType: string): boolean {
    const context = { pipelineId: PROBE_CONTEXT_PIPELINE, agentType };
    return flags.isEnabled(name, context, true) === flags.isEnabled(name, context, false);
  }

  return {
    async report(agentType: string, query: CanaryQuery): Promise<CanaryReport> {
      const agent = byType.get(agentType);
      if (!agent) throw new NotFoundError('AGENT_NOT_FOUND', `No agent type "${agentType}".`);
      const name = agentFlagNames(agent.type).shadow;
      const base = {
        agentType: agent.type,
        incumbentVersion: agent.version,
        candidateVersion: agent.nextVersion ?? null,
        shadowFlag: { name, defined: flagDefined(name, agent.type) },
      };
      if (!agent.nextVersion) {
        return {
          ...base,
          window: { since: query.since ?? null, runs: 0 },
          agreed: 0,
          disagreed: 0,
          agreementRate: null,
          disagreements: [],
        };
      }
      const filter = { agentType: agent.type, incumbentVersion: agent.version, candidateVersion: agent.nextVersion, since: query.since };
      const [counts, disagreements] = await Promise.all([reader.count(filter), reader.disagreements(filter, query.limit)]);
      const runs = counts.agreed + counts.disagreed;
      return {
        ...base,
        window: { since: query.since ?? null, runs },
        agreed: counts.agreed,
        disagreed: counts.disagreed,
        agreementRate: runs === 0 ? null : counts.agreed / runs,
        disagreements,
      };
    },
  };
}

export type CanaryReports = ReturnType<typeof createCanaryReports>;
