// Parsers for option values, run by commander as it reads the command line: a bad value is a
// usage error (exit 2) naming the option, before any request is made.
import { InvalidArgumentError } from 'commander';
import { PIPELINE_PRIORITIES, pipelinePrioritySchema, type PipelinePriority } from '../domain/pipeline-priority.js';

/** `--json` as every command that prints data takes it. */
export const JSON_OPTION = ['--json', 'print the API answer as JSON (for scripts)'] as const;

/** Appends to a repeatable option's list (`--label a=1 --label b=2`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `key=value` → [key, value]; the value may contain `=`. */
export function splitKeyValue(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`"${text}" is not key=value`);
  return [text.slice(0, at), text.slice(at + 1)];
}

/** Appends a `key=value` to a repeatable option's list, as a pair (`--label team=payments`). */
export const collectKeyValue = (value: string, previous: Array<[string, string]> = []): Array<[string, string]> => [
  ...previous,
  splitKeyValue(value),
];

/** A JSON object, as `--input` and `--answers` take it. */
export function jsonObjectArgument(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('not a JSON object');
  return value as Record<string, unknown>;
}

/** A whole number from `min` to `max`. */
export const intArgument =
  (min: number, max: number) =>
  (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`a whole number from ${min} to ${max}`);
    return n;
  };

/**
 * `--set key=value` takes the value as a string; `--set key:=value` as JSON (3, true, ["a"]), as
 * HTTPie spells it, so `--set version=1.10` stays the string it looks like.
 */
export function setAssignment(text: string): [string, unknown] {
  const [key, value] = splitKeyValue(text);
  if (!key.endsWith(':')) return [key, value];
  try {
    return [key.slice(0, -1), JSON.parse(value)];
  } catch (error) {
    throw new InvalidArgumentError(`"${text}": the value after := is not JSON (${(error as Error).message})`);
  }
}

/** One of the pipeline priorities (`--priority`). */
export function priorityArgument(text: string): PipelinePriority {
  const parsed = pipelinePrioritySchema.safeParse(text);
  if (!parsed.success) throw new InvalidArgumentError(`one of ${PIPELINE_PRIORITIES.join(', ')}`);
  return parsed.data;
}

/**
 * `--deadline`: an ISO date-time with a zone (`2026-12-24T18:00:00Z`) is the body's `deadline`; a
 * duration (`30m`, `4h`, `2d`) its `deadlineIn`. The API checks the bounds.
 */
export function deadlineArgument(text: string): { deadline: string } | { deadlineIn: string } {
  if (DEADLINE_DURATION.test(text)) return { deadlineIn: text };
  if (!Number.isNaN(Date.parse(text)) && /T.*(Z|[+-]\d\d:?\d\d)$/.test(text)) return { deadline: text };
  throw new InvalidArgumentError('a duration from now ("30m", "4h", "2d") or an ISO date-time with a zone ("2026-12-24T18:00:00Z")');
}
const DEADLINE_DURATION = /^\d{1,9}(ms|s|m|h|d)$/;
