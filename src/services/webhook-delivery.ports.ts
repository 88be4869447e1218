// The port of failed webhook deliveries: the failed set of the `webhooks` BullMQ queue
// (infra/webhooks/failed-deliveries.ts). A redelivery is BullMQ's own retry of the failed job,
// under its id: the delivery worker loads the event and the receiver again and signs it afresh.

/** A delivery job in the failed set: it used its attempts, or it was refused or answered with a final 4xx. */
export interface FailedDelivery {
  /** `<event id>-<index of the URL in WEBHOOK_URLS>`. */
  jobId: string;
  /** From the job data; null when the data is not `{ v: 2, eventId, urlIndex }` (a job the worker refused). */
  eventId: string | null;
  urlIndex: number | null;
  attemptsMade: number;
  /** BullMQ's failedReason: `webhook receiver answered 500`, `webhook job refused: …`. */
  failedReason: string;
  failedAt: Date;
  /** The worker refused the job (its data, id or event is not a delivery): a redelivery is refused again. */
  refused: boolean;
}

export type RedeliverOutcome =
  | { kind: 'redelivered'; delivery: FailedDelivery }
  /** The job exists but is not failed (delivered, waiting, or redelivered by someone else meanwhile). */
  | { kind: 'not_failed'; state: string }
  | { kind: 'missing' };

export interface FailedDeliveries {
  /** Failed deliveries, newest first (`oldest`: oldest first), at most `limit`; `total`: all of them. */
  scan(options: { limit: number; oldest?: boolean }): Promise<{ items: FailedDelivery[]; total: number }>;
  /** Moves one failed delivery back to waiting, its attempts counted afresh; only while it is failed (atomic). */
  redeliver(jobId: string): Promise<RedeliverOutcome>;
}
