// Unit tests for the Bull Board write allow-list (src/dashboard/bull-board.ts): which board writes
// are let through, in any spelling, and that Bull Board's own route words are never job ids.
import { expect } from 'chai';
import { classifyBoardWrite } from '../../src/dashboard/bull-board.js';

describe('Bull Board write allow-list (unit)', () => {
  it('retry, promote, pause and resume: classified, segments decoded, any case', () => {
    expect(classifyBoardWrite('PUT', '/api/queues/agent.noop/1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed/retry')).to.deep.equal({
      action: 'retry_job',
      queue: 'agent.noop',
      jobId: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
    });
    expect(classifyBoardWrite('PUT', '/API/QUEUES/agent%2Enoop/retry/failed')).to.deep.equal({ action: 'retry_all', queue: 'agent.noop' });
    expect(classifyBoardWrite('PUT', '/api/queues/webhooks/promote')).to.deep.equal({ action: 'promote_all', queue: 'webhooks' });
    expect(classifyBoardWrite('PUT', '/api/queues/pause')).to.deep.equal({ action: 'pause_all' });
  });

  it('add, clean, empty, obliterate, update-data, other methods: not on the list', () => {
    for (const [method, path] of [
      ['POST', '/api/queues/agent.noop/add'],
      ['PUT', '/api/queues/agent.noop/clean/completed'],
      ['PUT', '/api/queues/agent.noop/retry/completed'],
      ['PUT', '/api/queues/agent.noop/empty'],
      ['PUT', '/api/queues/agent.noop/obliterate'],
      ['PATCH', '/api/queues/agent.noop/job-1/update-data'],
      ['POST', '/api/queues/agent.noop/job-1/retry'],
      ['PUT', '/api/queues/agent.noop/%E0%A4%A/retry'],
    ] as const) {
      expect(classifyBoardWrite(method, path), `${method} ${path}`).to.equal(undefined);
    }
  });

  it("Bull Board's own route words where a job id stands (its clean of state retry): not a job retry", () => {
    expect(classifyBoardWrite('PUT', '/api/queues/webhooks/clean/retry')).to.equal(undefined);
    expect(classifyBoardWrite('PUT', '/api/queues/webhooks/CLEAN/promote')).to.equal(undefined);
  });
});
