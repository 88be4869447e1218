// The pg pool, measured: how long each request for a client waits (pool wait), and how long each
// statement takes, labelled by the statement's name in code. The hot-path statements already
// carry a `name` (that of their prepared plan), so the labels are a bounded set chosen in code and
// never read from SQL text: Prisma's queries (its driver adapter asks for rows as arrays) are
// `prisma`, BEGIN/COMMIT/ROLLBACK `transaction`, any other unnamed statement `unnamed`. The cost
// per statement is two clock reads and one closure.
import pg from 'pg';
import { isStatementTimeout } from '../../domain/statement-timeout.js';

/** What the pool reports; the metrics implement it (src/infra/telemetry/database-metrics.ts). */
export interface PoolObserver {
  /** Seconds from asking the pool for a client to getting one, or to the connect's failure. */
  waited(seconds: number): void;
  /** A statement ended after `seconds`; `error` when it failed. */
  executed(statement: string, seconds: number, error: unknown): void;
}

const TRANSACTION_CONTROL = new Set(['BEGIN', 'COMMIT', 'ROLLBACK']);

/** The label of a statement as pg's `query()` receives it (text or config object). */
export function statementLabel(query: unknown): string {
  if (typeof query === 'string') return TRANSACTION_CONTROL.has(query) ? 'transaction' : 'unnamed';
  if (query !== null && typeof query === 'object') {
    const { name, rowMode, text } = query as { name?: unknown; rowMode?: unknown; text?: unknown };
    if (typeof name === 'string' && name.length > 0) return name;
    if (rowMode === 'array') return 'prisma';
    if (typeof text === 'string' && TRANSACTION_CONTROL.has(text)) return 'transaction';
  }
  return 'unnamed';
}

type QueryFn = (...args: unknown[]) => unknown;
type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * Times every query of one client. Streams and cursors (a Submittable) pass untimed: the code
 * uses none. A statement timeout's message gets the statement's name and the variable to change.
 *
 * Promise-form queries sent while another is still running on the client (Prisma's query
 * interpreter runs the reads of one transaction with Promise.all) wait here for it, in order,
 * instead of in pg's own queue: pg 8 warns that such queueing will be removed in pg 9 (a
 * DeprecationWarning in every process's output), and each query's timing then starts when it is
 * sent. A failed query does not stop the ones behind it, as in pg's queue.
 */
function measureClient(client: pg.PoolClient, observer: PoolObserver, statementTimeoutMs: number): void {
  const original = client.query as unknown as QueryFn;
  /** Settles when the last query queued on this client has ended; null when none is in flight. */
  let tail: Promise<unknown> | null = null;
  const track = (query: Promise<unknown>): void => {
    const settled = query.then(
      () => undefined,
      () => undefined,
    );
    tail = settled;
    void settled.then(() => {
      if (tail === settled) tail = null;
    });
  };
  const finish = (statement: string, start: number, error: unknown) => {
    if (error && isStatementTimeout(error)) {
      const e = error as Error;
      e.message += ` (statement "${statement}" ran longer than DATABASE_STATEMENT_TIMEOUT_MS=${statementTimeoutMs})`;
    }
    observer.executed(statement, (performance.now() - start) / 1000, error);
  };
  (client as unknown as { query: QueryFn }).query = function measuredQuery(...args: unknown[]): unknown {
    const first = args[0];
    if (first !== null && typeof first === 'object' && typeof (first as { submit?: unknown }).submit === 'function') {
      return original.apply(client, args);
    }
    const statement = statementLabel(first);
    // pg-pool's pool.query() passes a callback; direct client use (transactions, Prisma) gets a promise.
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      const sendWithCallback = (ended?: () => void): unknown => {
        const sentAt = performance.now();
        args[last] = (error: unknown, result: unknown) => {
          finish(statement, sentAt, error);
          ended?.();
          return (callback as QueryFn)(error, result);
        };
        return original.apply(client, args);
      };
      if (!tail) return sendWithCallback();
      // Behind promise-form queries on this client (pool.query never shares a client, so only
      // a caller mixing both forms gets here): sent after them, and the next ones wait for it.
      track(tail.then(() => new Promise<void>((resolve) => void sendWithCallback(resolve))));
      return undefined;
    }
    const send = (): unknown => {
      const sentAt = performance.now();
      const result = original.apply(client, args);
      // Registered before the caller's own handlers, so the caller sees the explained message.
      if (result instanceof Promise)
        result.then(
          () => finish(statement, sentAt, undefined),
          (error: unknown) => finish(statement, sentAt, error),
        );
      return result;
    };
    const result = tail ? tail.then(send, send) : send();
    if (result instanceof Promise) track(result);
    return result;
  };
}

/**
 * A pg.Pool (Prisma's adapter checks `instanceof pg.Pool`) whose `connect` reports its wait:
 * pool.query(), transactions and Prisma all take their client through it.
 */
class MeasuredPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    private readonly observer: PoolObserver,
  ) {
    super(config);
    // Each new client, once, before it serves its first query.
    this.on('connect', (client) => measureClient(client, observer, Number(config.statement_timeout ?? 0)));
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const start = performance.now();
    const waited = () => this.observer.waited((performance.now() - start) / 1000);
    if (callback) {
      super.connect((error, client, done) => {
        waited();
        callback(error, client, done);
      });
      return;
    }
    return super.connect().then(
      (client) => {
        waited();
        return client;
      },
      (error: unknown) => {
        waited();
        throw error;
      },
    );
  }
}

export function createMeasuredPool(config: pg.PoolConfig, observer: PoolObserver): pg.Pool {
  return new MeasuredPool(config, observer);
}
