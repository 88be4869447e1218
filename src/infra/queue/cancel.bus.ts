// Cross-process cancellation: the API publishes the job ids of running stages; every worker
// process aborts the matching local jobs (their handlers see the AbortSignal).
import type { RedisClient } from './redis-connection.js';
import type { CancelBus } from '../../services/queue.ports.js';
import type { Logger } from '../telemetry/logger.js';
import { cancelMessageSchema } from './job-payloads.js';
import { cancelChannel } from './queue-names.js';

export function createCancelPublisher(connection: RedisClient, prefix: string): CancelBus {
  return {
    async publish(jobIds) {
      await connection.publish(cancelChannel(prefix), JSON.stringify({ jobIds }));
    },
  };
}

/** Subscribes on its own connection; returns a function that unsubscribes. */
export async function subscribeToCancels(
  subscriber: RedisClient,
  prefix: string,
  onCancel: (jobIds: string[]) => void,
  logger: Logger,
): Promise<() => Promise<void>> {
  const channel = cancelChannel(prefix);
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    try {
      onCancel(cancelMessageSchema.parse(JSON.parse(message)).jobIds);
    } catch (error) {
      logger.warn('ignored a malformed cancel message', { error: (error as Error).message });
    }
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel);
  };
}
