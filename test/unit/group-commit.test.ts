import { expect } from 'chai';
import { createGroupCommit } from '../../src/infra/group-commit.js';

/** A batch runner whose batches finish only when the test says so, recording what it was given. */
function controlledRun() {
  const batches: number[][] = [];
  const open: Array<() => void> = [];
  return {
    batches,
    /** Lets every batch started so far finish. */
    release: () => open.splice(0).forEach((finish) => finish()),
    run: async (items: readonly number[]) => {
      batches.push([...items]);
      await new Promise<void>((resolve) => open.push(resolve));
      return items.map((i) => i * 10);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('group commit (unit)', () => {
  it('an item alone is sent at once, as a batch of one', async () => {
    const c = controlledRun();
    const group = createGroupCommit({ run: c.run, maxBatch: 10, maxInFlight: 1 });
    const result = group.submit(1);
    await tick();
    expect(c.batches).to.deep.equal([[1]]);
    c.release();
    expect(await result).to.equal(10);
  });

  it('items submitted in one tick share a batch', async () => {
    const c = controlledRun();
    const group = createGroupCommit({ run: c.run, maxBatch: 10, maxInFlight: 1 });
    const results = Promise.all([1, 2, 3].map((i) => group.submit(i)));
    await tick();
    c.release();
    expect(await results).to.deep.equal([10, 20, 30]);
    expect(c.batches).to.deep.equal([[1, 2, 3]]);
  });

  it('items arriving while maxInFlight batches run wait and then go together, at most maxBatch at a time', async () => {
    const c = controlledRun();
    const group = createGroupCommit({ run: c.run, maxBatch: 3, maxInFlight: 2 });
    const all: Promise<number>[] = [group.submit(1)];
    await tick();
    all.push(group.submit(2));
    await tick();
    // Two in flight: these wait.
    for (const i of [3, 4, 5, 6, 7]) all.push(group.submit(i));
    await tick();
    expect(c.batches).to.deep.equal([[1], [2]]);
    c.release();
    await tick();
    expect(c.batches.slice(2)).to.deep.equal([
      [3, 4, 5],
      [6, 7],
    ]);
    c.release();
    expect(await Promise.all(all)).to.deep.equal([10, 20, 30, 40, 50, 60, 70]);
  });

  it('two items of one key never share a batch', async () => {
    const c = controlledRun();
    const group = createGroupCommit({ run: c.run, key: (i) => String(i % 2), maxBatch: 10, maxInFlight: 1 });
    const results = Promise.all([1, 2, 3, 4].map((i) => group.submit(i)));
    await tick();
    c.release();
    await tick();
    c.release();
    expect(await results).to.deep.equal([10, 20, 30, 40]);
    expect(c.batches).to.deep.equal([
      [1, 2],
      [3, 4],
    ]);
  });

  it('a batch failed by an item error is retried item by item: only the item the statement refuses fails', async () => {
    const batches: number[][] = [];
    const group = createGroupCommit({
      maxBatch: 10,
      maxInFlight: 1,
      itemError: (error) => (error as Error).message.startsWith('refused'),
      run: async (items: readonly number[]) => {
        batches.push([...items]);
        if (items.includes(2)) throw new Error('refused: 2');
        return items.map((i) => i * 10);
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).to.deep.equal([10, 'refused: 2', 30]);
    expect(batches).to.deep.equal([[1, 2, 3], [1], [2], [3]]);
  });

  it('any other error fails the whole batch at once, without retrying its items', async () => {
    let runs = 0;
    const group = createGroupCommit({
      maxBatch: 10,
      maxInFlight: 1,
      itemError: () => false,
      run: async (): Promise<number[]> => {
        runs++;
        throw new Error('connection lost');
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).to.deep.equal([
      'connection lost',
      'connection lost',
      'connection lost',
    ]);
    expect(runs).to.equal(1);
  });

  it('a runner that answers for the wrong number of items fails them instead of mixing results up', async () => {
    const group = createGroupCommit({ maxBatch: 10, maxInFlight: 1, itemError: () => true, run: async () => [1] });
    const results = await Promise.allSettled([group.submit(1), group.submit(2)]);
    // Retried one by one, each single batch gets one result: both succeed with what it returned.
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'fulfilled']);
    const broken = createGroupCommit({ maxBatch: 10, maxInFlight: 1, run: async () => [] as number[] });
    const [alone] = await Promise.allSettled([broken.submit(1)]);
    expect(alone.status === 'rejected' && (alone.reason as Error).message).to.equal('group commit: 0 results for 1 items');
  });

  it('refuses limits below one', () => {
    expect(() => createGroupCommit({ maxBatch: 0, maxInFlight: 1, run: async () => [] })).to.throw(/at least 1/);
  });
});
