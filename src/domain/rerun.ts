// Re-run from a stage (POST /pipelines/:id/rerun): which stages of a finished pipeline a re-run
// runs again and which it reuses, as pure functions over the DAG and the old stages' statuses.
//
// The rule ("re-execute from failure", as Dagster has it):
// - the seeds are the chosen stages (`from`) and every stage that did not succeed;
// - a re-run runs the seeds and everything downstream of them, transitively: a stage whose
//   upstream runs again may get another input, so its old output is not reused;
// - it reuses every other stage: each succeeded, and nothing upstream of it runs again. So an
//   upstream stage of a chosen one that did not succeed runs too (it is a seed), never refused;
// - workspace stages (agents that work in the pipeline's workspace, which a re-run gets new and
//   empty): a workspace stage that runs may read files its workspace stages upstream wrote, so
//   those run too (with what follows them), never reused.
// `from` defaults to the stages that failed or were cancelled (those skipped because of them are
// downstream, so they run too); when there are none (a succeeded pipeline), to the roots: the
// whole pipeline runs again.
import { z } from 'zod';
import { normalizeConfidence } from './decision-policy.js';
import { ConflictError, type ErrorDetail } from './errors.js';
import type { JsonObject, JsonValue } from './json.js';
import { APPROVALS_INPUT_KEY } from './platform-inputs.js';
import { initialStageStatus, type AdmissionFacts } from './stage-lifecycle.js';
import { TERMINAL_PIPELINE_STATUSES, type PipelineStatus, type StageStatus } from './status.js';

/** The body of POST /pipelines/:id/rerun: `from` absent means the default above. */
export const rerunRequestSchema = z
  .object({
    from: z.array(z.string().min(1).max(200)).min(1).max(500).optional().meta({
      description: 'Stage keys to run again (with everything downstream); default: the failed and cancelled ones, else the roots.',
    }),
  })
  .strict();
export type RerunRequest = z.infer<typeof rerunRequestSchema>;

/** What the rule needs of an old stage. */
export interface RerunSourceStage {
  key: string;
  dependsOn: readonly string[];
  status: StageStatus;
  /** Its agent works in the pipeline's workspace (its files are not carried into a re-run); absent: false. */
  workspace?: boolean;
}

export interface RerunPlan {
  /** The chosen stages, as given or by default (definition order, no repeats). */
  from: string[];
  /** Stages the re-run runs (definition order). */
  run: string[];
  /** Stages whose old output the re-run takes over without running them (definition order). */
  reuse: string[];
}

/** The default `from`: the stages that failed or were cancelled; none, the roots. */
export function defaultRerunFrom(stages: readonly RerunSourceStage[]): string[] {
  const broken = stages.filter((s) => s.status === 'failed' || s.status === 'cancelled').map((s) => s.key);
  return broken.length > 0 ? broken : stages.filter((s) => s.dependsOn.length === 0).map((s) => s.key);
}

/** `from` entries that name no stage of the pipeline, each naming its field (`from[i]`). */
export function rerunFromProblems(stages: readonly RerunSourceStage[], from: readonly string[]): ErrorDetail[] {
  const keys = new Set(stages.map((s) => s.key));
  return from.flatMap((key, i) =>
    keys.has(key) ? [] : [{ field: `from[${i}]`, code: 'unknown_stage', message: `the pipeline has no stage "${key}"` }],
  );
}

/**
 * Splits the stages into those a re-run runs and those it reuses (see the rule at the top).
 * `from` must name known stages (rerunFromProblems); absent: defaultRerunFrom.
 */
export function planRerun(stages: readonly RerunSourceStage[], from?: readonly string[]): RerunPlan {
  const chosen = [...new Set(from ?? defaultRerunFrom(stages))];
  const byKey = new Map(stages.map((s) => [s.key, s]));
  const dependants = new Map<string, string[]>(stages.map((s) => [s.key, []]));
  for (const stage of stages) for (const dep of stage.dependsOn) dependants.get(dep)?.push(stage.key);
  const runs = new Set<string>();
  /** Adds the keys and everything downstream of them. */
  const run = (keys: readonly string[]) => {
    const todo = [...keys];
    while (todo.length > 0) {
      const key = todo.pop()!;
      if (runs.has(key)) continue;
      runs.add(key);
      todo.push(...(dependants.get(key) ?? []));
    }
  };
  run([...chosen, ...stages.filter((s) => s.status !== 'succeeded').map((s) => s.key)]);
  // Workspace stages upstream of a workspace stage that runs: their files are needed, so they run.
  for (;;) {
    const needed = new Set<string>();
    const visit = (key: string) => {
      for (const dep of byKey.get(key)?.dependsOn ?? []) {
        if (needed.has(dep)) continue;
        needed.add(dep);
        visit(dep);
      }
    };
    for (const key of runs) if (byKey.get(key)?.workspace) visit(key);
    const pulled = [...needed].filter((key) => byKey.get(key)?.workspace && !runs.has(key));
    if (pulled.length === 0) break;
    run(pulled);
  }
  const order = stages.map((s) => s.key);
  return {
    from: order.filter((key) => chosen.includes(key)),
    run: order.filter((key) => runs.has(key)),
    reuse: order.filter((key) => !runs.has(key)),
  };
}

/**
 * The definition a re-run submits: the stored one, with the pipeline's input and each stage's
 * input as they ended, so the answers to the questions the old pipeline asked (`clarifications`,
 * merged into those inputs when they were answered) come along and are not asked again. The
 * approvals its stages were given (`decisions`) do not: an approval was for that run (an llm
 * overspend, say), and the re-run asks again. A stored definition that is not an object with a
 * `stages` array is passed through (its validation says why).
 */
export function definitionAsItEnded(
  stored: unknown,
  input: JsonObject,
  stageInputs: ReadonlyMap<string, JsonObject>,
): Record<string, unknown> {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const definition = stored as Record<string, unknown>;
  const stages = Array.isArray(definition.stages)
    ? definition.stages.map((stage: unknown) => {
        if (!stage || typeof stage !== 'object' || Array.isArray(stage)) return stage;
        const { key } = stage as { key?: unknown };
        const ended = typeof key === 'string' ? stageInputs.get(key) : undefined;
        const input = ended ?? (stage as { input?: unknown }).input;
        if (!input || typeof input !== 'object' || Array.isArray(input)) return stage;
        return { ...stage, input: Object.fromEntries(Object.entries(input).filter(([name]) => name !== APPROVALS_INPUT_KEY)) };
      })
    : definition.stages;
  return { ...definition, input, stages };
}

/**
 * A re-run stage's first status: a reused one is created `succeeded` (it is not a move of the
 * lifecycle table: the stage never runs in this pipeline); one to run is created as a new
 * pipeline's stage would be, ready (a root) when every dependency is reused.
 */
export function rerunStageStatus(
  stage: { key: string; dependsOn: readonly string[] } & Omit<AdmissionFacts, 'approved'>,
  reused: ReadonlySet<string>,
  pipeline: { admitted: boolean; autoApproval?: boolean },
): StageStatus {
  if (reused.has(stage.key)) return 'succeeded';
  const ready = stage.dependsOn.every((key) => reused.has(key));
  return initialStageStatus(
    { root: ready, autoApproveAt: stage.autoApproveAt, confidence: stage.confidence },
    { clarifying: false, admitted: pipeline.admitted, autoApproval: pipeline.autoApproval },
  );
}

/** Dependencies a stage to run still waits on: those that are not reused (its `waiting_on`). */
export function rerunWaitingOn(dependsOn: readonly string[], reused: ReadonlySet<string>): number {
  return dependsOn.filter((key) => !reused.has(key)).length;
}

/**
 * The confidence a stage to run starts with: the lowest of the pipeline input's and of the
 * confidences its reused dependencies' outputs report (what the finish statement would have
 * lowered it to, had they run in this pipeline); null: none reported.
 */
export function rerunConfidence(inputConfidence: number | null, reusedOutputs: readonly JsonValue[]): number | null {
  const reported = reusedOutputs
    .map((output) =>
      output !== null && typeof output === 'object' && !Array.isArray(output) ? normalizeConfidence(output.confidence) : null,
    )
    .filter((c): c is number => c !== null);
  const all = inputConfidence === null ? reported : [inputConfidence, ...reported];
  return all.length === 0 ? null : Math.min(...all);
}

/**
 * The 409 of a re-run whose old pipeline has not finished (queued or running, a DLQ replay having
 * reopened it included); null when it may be re-run. Asked by the service on its first read, and
 * again by the submission with the old pipeline's row locked.
 */
export function rerunNotFinished(id: string, status: PipelineStatus): ConflictError | null {
  if (TERMINAL_PIPELINE_STATUSES.has(status)) return null;
  return new ConflictError('PIPELINE_NOT_FINISHED', `Pipeline ${id} is ${status}: re-run it once it has finished.`, {
    details: [{ field: 'status', message: `${status}; a re-run needs succeeded, failed or cancelled` }],
  });
}
