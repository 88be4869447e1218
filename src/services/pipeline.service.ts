// Use cases behind the REST API and the CLI: submit (idempotently, through admission control),
// read, list and cancel pipelines. Postgres is written first; the control message follows.
import { randomUUID } from 'node:crypto';
import type { AgentCatalog } from '../agents/catalog.js';
import { backlogFull, backlogFullError, limitsEnabled, type AdmissionLimits } from '../domain/admission.js';
import {
  ConflictError,
  ForbiddenError,
  IdempotencyKeyTakenError,
  NotFoundError,
  UnavailableError,
  ValidationError,
} from '../domain/errors.js';
import { can, type Actor, type Identity } from '../domain/identity.js';
import { hashRequest, idempotencyKeyReused } from '../domain/idempotency.js';
import type { AuditEntry } from './identity.ports.js';
import { afterCommitWith } from './release.js';
import { MAX_STAGES, validatePipelineDefinition, zodIssuesToDetails } from '../domain/pipeline-definition.js';
import { checkNoPlatformInputs } from '../domain/platform-inputs.js';
import { checkSubmissionQuotas, type SubmissionQuotas } from '../domain/submission-quotas.js';
import { TERMINAL_PIPELINE_STATUSES } from '../domain/status.js';
import { templateRunRequestSchema, type Template, type TemplateRunRequest } from '../domain/template.js';
import { templateInputProblems } from '../domain/template-input.js';
import {
  autoApproveThreshold,
  categoryForStage,
  checkCategoriesAllowed,
  normalizeConfidence,
  type DecisionPolicy,
} from '../domain/decision-policy.js';
import { resolveGates } from '../domain/gates.js';
import type { PipelineDefinition } from '../domain/pipeline-definition.js';
import { checkRequirements } from '../domain/requirements-check.js';
import { parseLabels, type PipelineLabels } from '../domain/pipeline-labels.js';
import type { PipelinePriority } from '../domain/pipeline-priority.js';
import { checkPriorityAllowed, parseScheduling, type SubmissionScheduling } from '../domain/pipeline-scheduling.js';
import { readPipelineTimeline, type PipelineTimeline } from './timeline.service.js';
import type { PipelineDetail, PipelineListQuery, PipelineRepository, PipelineView, StageView } from './pipeline.ports.js';
import type { AgentQueues, CancelBus, ControlQueue } from './queue.ports.js';
import type { StageRunView } from './stage-run.ports.js';
import type { NewRerun } from './rerun.ports.js';

export interface TemplateSource {
  get(name: string): Template | undefined;
  names(): string[];
}

export interface PipelineServiceDeps {
  repo: PipelineRepository;
  control: ControlQueue;
  agentQueues: AgentQueues;
  cancelBus: CancelBus;
  agents: AgentCatalog;
  templates: TemplateSource;
  policy: DecisionPolicy;
  /** Running limits and the backlog's high-water mark (default: none, every pipeline starts at once). */
  admission?: AdmissionOptions;
  /** Stage and input-byte caps per submission, templates included (default: the definition's 500-stage ceiling, no byte cap). */
  quotas?: SubmissionQuotas;
  newId?: () => string;
  /** Called once per pipeline a submission created (not for idempotent replays): metrics. */
  onCreated?: (pipeline: PipelineDetail) => void;
  /** The W3C trace id of the active span (the submission's request), recorded on the pipeline; absent or undefined: none. */
  traceId?: () => string | undefined;
  /** How far ahead a submission's deadline may be (PIPELINE_DEADLINE_MAX_MS; default 30 days). */
  deadlineMaxMs?: number;
  /** The clock deadlines are checked against (default: now). */
  now?: () => Date;
  /** WORKSPACE_REPOSITORY_ALLOW: the repositories a submission's `input.repository` may name (`['*']`: any). */
  repositoryAllow: readonly string[];
}

const DEFAULT_DEADLINE_MAX_MS = 30 * 24 * 3_600_000;

export interface AdmissionOptions {
  limits: AdmissionLimits;
  /** Queued pipelines at which a submission is refused with 429 BACKLOG_FULL (0: never). */
  backlogHighWater: number;
}

export interface SubmitOptions {
  /** Scoped to the actor: another identity's equal key is another pipeline. */
  idempotencyKey?: string;
  /** Who submits: the pipeline's `submitter` is its identity id. */
  actor: Actor;
  /**
   * A re-run (services/rerun.service.ts): the old pipeline, the stages chosen and those reused,
   * and the old template's name. No requirements check (the old pipeline's was answered), the
   * audit action is `pipeline.rerun`, and an Idempotency-Key is matched on (old id, from).
   */
  rerun?: NewRerun & { template: string | null };
}

export interface SubmitResult {
  pipeline: PipelineDetail;
  /** True when an Idempotency-Key matched an earlier submission. */
  replayed: boolean;
}

/** A re-run's audit event in place of the submission's: the old pipeline is its target, the new one its pipeline. */
function rerunAudit(rerun: NewRerun, id: string, key: string | null): Pick<AuditEntry, 'action' | 'targetId' | 'data'> {
  return {
    action: 'pipeline.rerun',
    targetId: rerun.of,
    data: { rerunOf: rerun.of, pipelineId: id, from: rerun.from, reused: [...rerun.reused.keys()], idempotencyKey: key },
  };
}

export function createPipelineService(deps: PipelineServiceDeps) {
  const { repo, control, agentQueues, cancelBus, agents, templates, policy } = deps;
  const afterCommit = afterCommitWith({ agentQueues, control });
  const newId = deps.newId ?? randomUUID;
  const admission = deps.admission ?? { limits: { maxRunning: 0, maxRunningPerSubmitter: 0 }, backlogHighWater: 0 };
  const quotas = deps.quotas ?? { maxStages: MAX_STAGES, maxInputBytes: Number.POSITIVE_INFINITY };
  const deadlineBounds = { maxMs: deps.deadlineMaxMs ?? DEFAULT_DEADLINE_MAX_MS };
  const now = deps.now ?? (() => new Date());

  type TemplateRun = { template: Template; input: TemplateRunRequest['input'] };

  /**
   * Turns `{ template, input }` into a full definition; passes a definition through. `labels`,
   * `priority`, `deadline` and `deadlineIn` belong to the submission, not to the definition or the
   * template: taken out and checked here.
   */
  function resolveDefinition(body: unknown): {
    raw: unknown;
    run: TemplateRun | null;
    labels: PipelineLabels;
    scheduling: SubmissionScheduling;
  } {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationError('VALIDATION_FAILED', 'The request body must be a JSON object.', {
        details: [{ field: '(body)', message: 'expected a JSON object' }],
      });
    }
    const { labels: rawLabels, priority, deadline, deadlineIn, ...rest } = body as Record<string, unknown>;
    const labels = parseLabels(rawLabels);
    const scheduling = parseScheduling({ priority, deadline, deadlineIn }, now(), deadlineBounds);
    if (!('template' in rest)) return { raw: rest, run: null, labels, scheduling };
    const request = templateRunRequestSchema.safeParse(rest);
    if (!request.success)
      throw new ValidationError('VALIDATION_FAILED', 'The template request is invalid.', { details: zodIssuesToDetails(request.error) });
    const template = templates.get(request.data.template);
    if (!template) {
      throw new ValidationError('VALIDATION_FAILED', 'Unknown template.', {
        details: [
          {
            field: 'template',
            code: 'unknown_template',
            message: `no template "${request.data.template}"; known: ${templates.names().join(', ')}`,
          },
        ],
      });
    }
    return {
      raw: { name: request.data.name ?? template.name, input: request.data.input, stages: template.stages },
      run: { template, input: request.data.input },
      labels,
      scheduling,
    };
  }

  /** A template takes only the input its `inputSchema` names: 400 naming each offending field. */
  function checkTemplateInput({ template, input }: TemplateRun): void {
    const problems = templateInputProblems(template.inputSchema, input);
    if (problems.length > 0) {
      throw new ValidationError('VALIDATION_FAILED', `The input does not match the inputSchema of template "${template.name}".`, {
        details: problems,
      });
    }
  }

  /**
   * Every check of a submission that reads nothing: the one home of what submit() refuses before
   * it writes and of what check() refuses for a schedule's owner. The cheapest refusals first.
   */
  function checkedSubmission(body: unknown, identity: Pick<Identity, 'roles' | 'name'>, rerun?: SubmitOptions['rerun']) {
    const resolved = resolveDefinition(body);
    const { raw, run, scheduling } = resolved;
    // Before anything is counted or written: an unprivileged caller asking for urgent gets 403.
    checkPriorityAllowed(scheduling.priority, identity);
    // Before the full validation, which costs far more on a huge body: 413 naming the cap.
    checkSubmissionQuotas(raw, quotas);
    if (run) checkTemplateInput(run);
    const definition = validatePipelineDefinition(raw, agents, { repositoryAllow: deps.repositoryAllow });
    // A template's categories are its author's (the deployment's files), and so are those a
    // re-run of a template pipeline takes over; a definition's are the caller's: 403 unless allowed.
    if (!run && !rerun?.template) checkCategoriesAllowed(definition.stages, identity);
    // A re-run's inputs hold what the platform wrote into the old pipeline's (its answers).
    if (!rerun) checkNoPlatformInputs(definition.stages);
    return { ...resolved, definition };
  }

  /** Runs a dispatch; Redis refusing it becomes a 503 the client can retry idempotently. */
  async function dispatchOr503(pipelineId: string, send: () => Promise<void>): Promise<void> {
    try {
      await send();
    } catch {
      throw new UnavailableError(
        'QUEUE_UNAVAILABLE',
        `Pipeline ${pipelineId} is recorded but could not be queued (Redis unreachable); repeat the request with the same Idempotency-Key to retry.`,
      );
    }
  }

  /**
   * Adds the jobs of a new pipeline's roots the policy let start (created queued); roots that
   * need a decision are left pending for the conductor, which opens it.
   */
  async function startRoots(pipeline: PipelineDetail, requestId?: string): Promise<void> {
    // The contract version is the one the submission recorded (this process's catalog).
    const { priority } = pipeline;
    const roots = pipeline.stages
      .filter((s) => s.status === 'queued')
      .map(({ id, key, agent, retry }) => ({ id, key, agent, retry, priority, contractVersion: agents.get(agent)?.contract.version ?? 1 }));
    // Ready: every dependency succeeded (at submission none has, but a re-run's reused ones have).
    const succeeded = new Set(pipeline.stages.filter((s) => s.status === 'succeeded').map((s) => s.key));
    const undecided = pipeline.stages.some((s) => s.status === 'pending' && s.dependsOn.every((key) => succeeded.has(key)));
    await dispatchOr503(pipeline.id, () =>
      afterCommit(
        { pipelineId: pipeline.id, stages: roots, deadlineAt: pipeline.deadlineAt, advance: undecided && 'advance' },
        { requestId },
      ),
    );
  }

  /** What the policy fixes at submission: each stage's gates, category and auto-approve threshold. */
  function policyFor(definition: PipelineDefinition) {
    return {
      version: policy.version,
      stages: definition.stages.map((stage) => {
        const category = categoryForStage(stage.agent, stage.category);
        return { gates: resolveGates(stage.agent, stage.gates), category, autoApproveAt: autoApproveThreshold(policy, category) };
      }),
    };
  }

  async function replay(submitter: string, key: string, requestHash: string, requestId?: string): Promise<SubmitResult | null> {
    const existing = await repo.findByIdempotencyKey(submitter, key);
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw idempotencyKeyReused(`pipeline ${existing.id}`);
    }
    // A first attempt may have failed to queue its jobs: have them re-added.
    if (!TERMINAL_PIPELINE_STATUSES.has(existing.status)) {
      // Adding a job id that exists is a no-op, so the conductor can simply re-add them all.
      await dispatchOr503(existing.id, () =>
        afterCommit({ pipelineId: existing.id, deadlineAt: existing.deadlineAt, advance: 'redispatch' }, { requestId }),
      );
    }
    const { requestHash: _hash, ...pipeline } = existing;
    return { pipeline, replayed: true };
  }

  return {
    async submit(body: unknown, options: SubmitOptions): Promise<SubmitResult> {
      const { actor } = options;
      const requestId = actor.requestId;
      const submitter = actor.identity.id;
      const { rerun } = options;
      const { run, labels, scheduling, definition } = checkedSubmission(body, actor.identity, rerun);
      const template = rerun ? rerun.template : (run?.template.name ?? null);
      const key = options.idempotencyKey ?? null;
      const requestHash = key ? hashRequest(rerun ? { rerunOf: rerun.of, from: rerun.from } : body) : null;
      // Under running limits a replay is looked up first, so that neither the backlog mark nor
      // the admission lock stands in its way. Without them the insert finds it: the unique index
      // on (submitter, key) fails the statement and the replay below answers, so a new
      // submission, the common case, pays no lookup.
      if (key && requestHash && limitsEnabled(admission.limits)) {
        const replayed = await replay(submitter, key, requestHash, requestId);
        if (replayed) return replayed;
      }
      // A soft mark: read before the insert, so concurrent submissions may pass it by a few.
      // Without a running limit nothing waits, so the count is not worth a query.
      if (admission.backlogHighWater > 0 && limitsEnabled(admission.limits)) {
        const queued = await repo.countQueued();
        if (backlogFull(admission.backlogHighWater, queued)) throw backlogFullError(queued, admission.backlogHighWater);
      }
      let created: { pipeline: PipelineDetail; started: string[] };
      const id = newId();
      // Unclear requirements are asked about before any work starts: the roots wait.
      // A re-run's requirements were settled by the old pipeline's answers: it asks nothing.
      const questions = rerun ? [] : checkRequirements(definition.input);
      try {
        created = await repo.createPipeline({
          id,
          definition,
          template,
          idempotencyKey: key,
          requestHash,
          stageIds: definition.stages.map(() => newId()),
          // Validated against these agents' schemas just above, so written under their contract versions.
          contractVersions: definition.stages.map((stage) => agents.get(stage.agent)?.contract.version ?? 1),
          policy: policyFor(definition),
          confidence: normalizeConfidence(definition.input.confidence),
          clarification: questions.length > 0 ? { id: newId(), pipelineId: id, stageKey: null, questions, askedBy: 'submission' } : null,
          submitter,
          labels,
          traceId: deps.traceId?.() ?? null,
          priority: scheduling.priority,
          deadlineAt: scheduling.deadlineAt,
          admission: limitsEnabled(admission.limits) ? admission.limits : null,
          // In the same statement as the pipeline: one commit, and never a pipeline without it.
          audit: {
            action: 'pipeline.submitted',
            actor,
            targetType: 'pipeline',
            targetId: id,
            pipelineId: id,
            data: {
              name: definition.name,
              template,
              idempotencyKey: key,
              priority: scheduling.priority,
              deadlineAt: scheduling.deadlineAt?.toISOString() ?? null,
            },
            ...(rerun && rerunAudit(rerun, id, key)),
          },
          rerun: rerun && { of: rerun.of, from: rerun.from, reused: rerun.reused },
        });
      } catch (error) {
        if (error instanceof IdempotencyKeyTakenError && key && requestHash) {
          const replayed = await replay(submitter, key, requestHash, requestId);
          if (replayed) return replayed;
        }
        throw error;
      }
      const { pipeline, started } = created;
      deps.onCreated?.(pipeline);
      // Queued pipelines this submission's admission started: the conductor plans their roots.
      if (started.length > 0) {
        await dispatchOr503(pipeline.id, async () => {
          for (const startedId of started) await afterCommit({ pipelineId: startedId, advance: 'advance' }, { requestId });
        });
      }
      // Over a limit the pipeline waits `queued`, nothing dispatched, until a finish starts it.
      if (pipeline.status === 'running') await startRoots(pipeline, requestId);
      // A queued one's deadline counts from now too: it may pass while the pipeline waits.
      else if (pipeline.deadlineAt) {
        const { deadlineAt } = pipeline;
        await dispatchOr503(pipeline.id, () => afterCommit({ pipelineId: pipeline.id, deadlineAt }, { requestId }));
      }
      return { pipeline, replayed: false };
    },

    /**
     * Checks a body as submit() does for `identity` (400 or 413 naming each field, 403
     * PRIORITY_FORBIDDEN or CATEGORY_FORBIDDEN) and records nothing: what a schedule will submit
     * on each tick, as its owner, is checked when the schedule is created.
     */
    check(body: unknown, identity: Pick<Identity, 'roles' | 'name'>): void {
      checkedSubmission(body, identity);
    },

    /** `stageLimit`: read only the first stages (in definition order), for a response that pages the rest. */
    async get(id: string, options: { stageLimit?: number } = {}): Promise<PipelineDetail> {
      const pipeline = await repo.getPipeline(id, options);
      if (!pipeline) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      return pipeline;
    },

    /** Up to `limit` stages of a pipeline from position `from` on, in definition order. */
    async stages(id: string, page: { from: number; limit: number }): Promise<StageView[]> {
      const stages = await repo.listStages(id, page);
      if (!stages) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      return stages;
    },

    list(query: PipelineListQuery): Promise<PipelineView[]> {
      return repo.listPipelines(query);
    },

    /** The pipeline's events as a time-ordered timeline; PIPELINE_NOT_FOUND for an unknown id. */
    timeline(id: string): Promise<PipelineTimeline> {
      return readPipelineTimeline(repo, id);
    },

    async runs(id: string): Promise<StageRunView[]> {
      await this.get(id);
      return repo.listRuns(id);
    },

    /**
     * Waiting stages never start; running ones get their AbortSignal. A submitter cancels what
     * it submitted; an operator (or admin) cancels any pipeline.
     */
    async cancel(id: string, actor: Actor): Promise<PipelineDetail> {
      if (!can(actor.identity, 'cancel_any')) {
        const pipeline = await this.get(id);
        if (!can(actor.identity, 'cancel_own') || pipeline.submitter !== actor.identity.id) {
          throw new ForbiddenError('FORBIDDEN', `${actor.identity.name} may cancel only the pipelines it submitted; operators cancel any.`);
        }
      }
      const result = await repo.requestCancel(id, {}, (found) =>
        TERMINAL_PIPELINE_STATUSES.has(found.status)
          ? null
          : { action: 'pipeline.cancelled', actor, targetType: 'pipeline', targetId: id, pipelineId: id },
      );
      if (!result) throw new NotFoundError('PIPELINE_NOT_FOUND', `No pipeline ${id}.`);
      if (TERMINAL_PIPELINE_STATUSES.has(result.status)) {
        throw new ConflictError('PIPELINE_FINISHED', `Pipeline ${id} already finished (${result.status}).`);
      }
      if (result.runningJobIds.length > 0) await cancelBus.publish(result.runningJobIds);
      await afterCommit({ pipelineId: id, advance: 'advance' }, { requestId: actor.requestId });
      return this.get(id);
    },

    /**
     * An unfinished pipeline's new priority (operators: the route's `prioritize` permission): the
     * pipeline row first, which every later release reads, then the jobs of its stages waiting
     * now. 404 PIPELINE_NOT_FOUND, 409 PIPELINE_FINISHED; audited `pipeline.reprioritized`.
     */
    async changePriority(id: string, priority: PipelinePriority, actor: Actor): Promise<PipelineDetail> {
      const changed = await repo.setPriority(id, priority, (change) => ({
        action: 'pipeline.reprioritized',
        actor,
        targetType: 'pipeline',
        targetId: id,
        pipelineId: id,
        data: { from: change.before, to: priority, waitingJobs: change.queued.length },
      }));
      if (!changed) {
        const pipeline = await this.get(id);
        throw new ConflictError(
          'PIPELINE_FINISHED',
          `Pipeline ${id} already finished (${pipeline.status}); its priority no longer matters.`,
        );
      }
      // Committed first, with its audit event: a job added meanwhile by a release already read the new priority.
      try {
        await agentQueues.reprioritize(changed.queued, priority);
      } catch {
        throw new UnavailableError(
          'QUEUE_UNAVAILABLE',
          `Pipeline ${id} is now ${priority}, but its waiting jobs could not be re-prioritised (Redis unreachable); repeat the request.`,
        );
      }
      return this.get(id);
    },
  };
}

export type PipelineService = ReturnType<typeof createPipelineService>;
