// Holding a BullMQ queue's work while a switch is off, without spending attempts: a local
// worker is paused so it fetches nothing (`followSwitch`), and a job fetched anyway (in the
// moment before the pause, or by a process that has not seen the change yet) goes back to the
// queue as a delayed job (`holdJob`), which BullMQ does not count as an attempt.
import { DelayedError, type Job, type Worker } from 'bullmq';

/**
 * Puts a fetched job back for `holdMs` and ends its processing: the caller throws what this
 * returns. The job keeps its attempts (a DelayedError is not a failure) and is fetched again
 * when the delay ends; a paused worker leaves it waiting in the queue.
 */
export async function holdJob(job: Pick<Job, 'moveToDelayed'>, token: string | undefined, holdMs: number): Promise<DelayedError> {
  await job.moveToDelayed(Date.now() + holdMs, token);
  return new DelayedError();
}

export interface WorkerSwitch {
  /** Pauses (`on` false) or resumes the worker; resolves once this and every earlier change is applied. */
  set(on: boolean): Promise<void>;
}

/**
 * Keeps one local worker paused while its switch is off. Changes are applied one at a time and
 * only the latest one counts, so quick flips end in the state of the last. A pause does not wait
 * for running jobs: a running attempt finishes whatever the switch says. `onError` gets what a
 * pause or resume threw (the next change tries again).
 */
export function followSwitch(worker: Pick<Worker, 'pause' | 'resume' | 'isPaused'>, onError: (error: Error) => void): WorkerSwitch {
  let wanted = true;
  let applying: Promise<void> = Promise.resolve();
  return {
    set(on) {
      wanted = on;
      applying = applying.then(async () => {
        try {
          if (!wanted && !worker.isPaused()) await worker.pause(true);
          else if (wanted && worker.isPaused()) await worker.resume();
        } catch (error) {
          onError(error as Error);
        }
      });
      return applying;
    },
  };
}
