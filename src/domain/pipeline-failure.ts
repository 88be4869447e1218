// The `error` a failed pipeline records (its row, pipeline.finished, the webhooks): the stages that
// failed without continueOnFailure and each one's reason, with a one-line message naming them.
import { MAX_MESSAGE } from './errors.js';

export interface PipelineFailure {
  code: 'STAGES_FAILED';
  message: string;
  failedStages: string[];
  reasons: Record<string, string>;
}

/**
 * `failed stage(s): a (boom), b (timeout)`. Each reason is already cut to MAX_MESSAGE; the message
 * joining them is cut too, at a whole stage, naming how many more there are: with many failed
 * stages it grew to MAX_MESSAGE times their number, in every webhook and event that carried it.
 * `reasons` keeps every stage's own reason.
 */
export function pipelineFailure(failedStages: readonly string[], reasonOf: (key: string) => string | null | undefined): PipelineFailure {
  const reasons = Object.fromEntries(failedStages.map((key) => [key, reasonOf(key) ?? 'failed']));
  const head = 'failed stage(s): ';
  const more = (count: number) => (count > 0 ? ` … and ${count} more (see reasons)` : '');
  let message = head;
  for (let i = 0; i < failedStages.length; i++) {
    const key = failedStages[i]!;
    const part = `${i > 0 ? ', ' : ''}${key} (${reasons[key]})`;
    // Room is kept for the note naming the stages after this one: each step leaves it.
    const after = more(failedStages.length - i - 1);
    if (message.length + part.length + after.length <= MAX_MESSAGE) {
      message += part;
    } else if (message === head) {
      message += `${part.slice(0, MAX_MESSAGE - head.length - after.length - 1)}…${after}`;
      break;
    } else {
      message += more(failedStages.length - i);
      break;
    }
  }
  return { code: 'STAGES_FAILED', message, failedStages: [...failedStages], reasons };
}
