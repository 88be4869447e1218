// The stage envelope: everything one attempt of a stage runs on, under the contract version its
// data was written in. Split in two on purpose: the job in Redis carries only the header (ids,
// contract version, trace and correlation ids), and the claim completes it from Postgres (run,
// attempt, input, upstream outputs). Postgres is the record and Redis the transport: job data
// stays small, and a job re-added by the reconciler from Postgres alone is a complete one.
import type { AgentContract } from './contract-version.js';
import type { JsonObject, JsonValue } from './json.js';

/** The contract version of data written before versions were recorded. */
export const FIRST_CONTRACT_VERSION = 1;

/** The part of the envelope that crosses Redis (the agent job's data). */
export interface StageJobHeader {
  /** The contract version the stage's input was written under (at submission). */
  contractVersion: number;
  pipelineId: string;
  stageId: string;
  stageKey: string;
  /** W3C trace context of the producer (`00-<trace>-<span>-<flags>`), when tracing is on. */
  traceparent?: string;
  /** The id that ties the stage to the request that caused it (the submission's request id). */
  correlationId?: string;
}

/** An upstream stage's output as stored, with the contract version its producer wrote it under. */
export interface UpstreamOutput {
  /** The producing agent type (its output upcasters apply). */
  agent: string;
  contractVersion: number;
  output: JsonValue;
}

/** The complete envelope an attempt runs on. */
export interface StageEnvelope extends Required<Omit<StageJobHeader, 'traceparent' | 'correlationId'>> {
  runId: string;
  /** 1 for the first attempt. */
  attempt: number;
  traceparent: string | null;
  correlationId: string | null;
  input: JsonObject;
  /** Outputs of the stages this one depends on, by stage key. */
  upstream: Record<string, UpstreamOutput>;
}

/** What the claim read from Postgres: the record's side of the envelope. */
export interface ClaimedEnvelopeData {
  pipelineId: string;
  stageId: string;
  stageKey: string;
  runId: string;
  attempt: number;
  /** As recorded on the stage row; absent: written before versions were (v1). */
  contractVersion?: number;
  input: JsonObject;
  upstream: Record<string, UpstreamOutput>;
}

/**
 * Completes a job's header with what the claim read. Where the two disagree Postgres wins: the
 * header is a copy made when the job was queued, the stage row is the record.
 */
export function completeEnvelope(header: Partial<StageJobHeader>, claimed: ClaimedEnvelopeData): StageEnvelope {
  return {
    contractVersion: claimed.contractVersion ?? header.contractVersion ?? FIRST_CONTRACT_VERSION,
    pipelineId: claimed.pipelineId,
    stageId: claimed.stageId,
    stageKey: claimed.stageKey,
    runId: claimed.runId,
    attempt: claimed.attempt,
    traceparent: header.traceparent ?? null,
    correlationId: header.correlationId ?? null,
    input: claimed.input,
    upstream: claimed.upstream,
  };
}

/** The plain outputs by key (what handlers see as `ctx.dependencies`), without versions. */
export function upstreamOutputs(upstream: Record<string, UpstreamOutput>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(upstream).map(([key, u]) => [key, u.output]));
}

/** What upcasting needs of an agent: its contract. */
export interface ContractHolder {
  readonly contract: AgentContract;
}

/**
 * The handler's input and dependencies at the agent's contract version: the input upcast from the
 * envelope's version, each upstream output by its producer's output upcasters when `producers`
 * knows it (else as stored). Throws CONTRACT_VERSION_UNSUPPORTED for what no upcaster reaches.
 */
export function upcastEnvelope(
  agent: ContractHolder,
  envelope: Pick<StageEnvelope, 'contractVersion' | 'input' | 'upstream'>,
  producers: ReadonlyMap<string, ContractHolder> = new Map(),
): { input: JsonObject; dependencies: Record<string, JsonValue> } {
  const input = agent.contract.upcastInput(envelope.input, envelope.contractVersion);
  const dependencies: Record<string, JsonValue> = {};
  for (const [key, upstream] of Object.entries(envelope.upstream)) {
    const producer = producers.get(upstream.agent);
    // A dependency that failed under continueOnFailure has no output: nothing to upcast.
    dependencies[key] =
      producer && upstream.output !== null
        ? producer.contract.upcastOutput(upstream.output, upstream.contractVersion, `upstream "${key}" output`)
        : upstream.output;
  }
  return { input, dependencies };
}
