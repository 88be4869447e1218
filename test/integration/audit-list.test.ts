// The audit trail's list over the real Postgres: newest first by numeric id across pages (ids
// past 9 sort as numbers, not text), and the filters narrow it.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createAuditRepository } from '../../src/infra/db/audit.repository.js';
import { createDatabase, type Database } from '../../src/infra/db/database.js';
import { terminalActor } from '../../src/services/api-key.service.js';
import { testConfig } from '../support/harness.js';

describe('audit list (integration)', () => {
  let db: Database;
  const target = randomUUID();

  before(() => {
    db = createDatabase(testConfig().DATABASE_URL, 2);
  });
  after(async () => {
    await db.pool.query('DELETE FROM audit_events WHERE target_id = $1', [target]);
    await db.close();
  });

  it('25 events read 7 at a time: every event once, ids strictly decreasing across pages', async () => {
    const audit = createAuditRepository(db);
    for (let i = 0; i < 25; i++) {
      await audit.record({
        action: 'pipeline.cancelled',
        actor: { ...terminalActor('audit-test'), requestId: `r-${i}`, sourceAddress: '127.0.0.1' },
        targetType: 'pipeline',
        targetId: target,
      });
    }
    const seen: string[] = [];
    let beforeId: string | undefined;
    for (;;) {
      const page = await audit.list({ targetId: target, beforeId, limit: 7 });
      seen.push(...page.map((e) => e.id));
      if (page.length < 7) break;
      beforeId = page[page.length - 1]!.id;
    }
    expect(seen).to.have.length(25);
    const numbers = seen.map(BigInt);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]! < numbers[i - 1]!, `${seen[i]} after ${seen[i - 1]}`).to.equal(true);
    const newest = await audit.list({ targetId: target, limit: 1 });
    expect(newest[0]).to.deep.include({
      action: 'pipeline.cancelled',
      requestId: 'r-24',
      sourceAddress: '127.0.0.1',
      targetType: 'pipeline',
    });
    expect(newest[0]!.identity).to.deep.equal({ id: 'cli:audit-test', name: 'cli:audit-test', kind: 'user', via: 'cli', roles: ['admin'] });
  });

  it('a filter that matches nothing: an empty page', async () => {
    const audit = createAuditRepository(db);
    expect(await audit.list({ targetId: target, action: 'key.created', limit: 10 })).to.deep.equal([]);
  });
});
