// Who may declare a stage's decision category (src/domain/decision-policy.ts), pure: on an agent
// type that implies a category, another one needs override_category (operators, admins); on any
// other agent type a declared category is open to every submitter; a re-run drops an override its
// re-runner could not have declared.
import { expect } from 'chai';
import { checkCategoriesAllowed, impliedCategory, inheritedCategories, type CategorizedStage } from '../../src/domain/decision-policy.js';
import { ForbiddenError } from '../../src/domain/errors.js';
import { can, rolesGranting } from '../../src/domain/identity.js';

const submitter = { name: 'sam', roles: ['submitter'] };
const operator = { name: 'olga', roles: ['submitter', 'operator'] };
const admin = { name: 'root', roles: ['admin'] };

/** The ForbiddenError a call throws (fails when it throws none). */
function refusal(fn: () => void): ForbiddenError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ForbiddenError);
    return error as ForbiddenError;
  }
  expect.fail('expected a ForbiddenError');
}

describe('stage categories: who may declare which (unit)', () => {
  it('override_category is granted to operators and admins only', () => {
    expect(rolesGranting('override_category')).to.deep.equal(['operator', 'admin']);
    expect(can(submitter, 'override_category')).to.equal(false);
  });

  it('impliedCategory: the agent types that imply one and their stand-ins; undefined for any other', () => {
    expect(impliedCategory('sim_deployment')).to.equal('cost_impacting');
    expect(impliedCategory('scaffold')).to.equal('architectural_change');
    expect(impliedCategory('migration')).to.equal('data_migration');
    expect(impliedCategory('noop')).to.equal(undefined);
    expect(impliedCategory('constructor')).to.equal(undefined);
  });

  describe('checkCategoriesAllowed', () => {
    it('a submitter declaring another category on a deployment stage: 403 CATEGORY_FORBIDDEN naming stages[i].category', () => {
      const stages: CategorizedStage[] = [
        { agent: 'noop' },
        { agent: 'sim_deployment', category: 'technical_refactor' },
        { agent: 'scaffold', category: 'security_affecting' },
      ];

      const error = refusal(() => checkCategoriesAllowed(stages, submitter));

      expect(error.code).to.equal('CATEGORY_FORBIDDEN');
      expect(error.status).to.equal(403);
      expect(error.details.map((d) => d.field)).to.deep.equal(['stages[1].category', 'stages[2].category']);
      expect(error.details[0]!.message).to.include('"cost_impacting"').and.include('override_category');
    });

    it('a submitter: no declared category, the implied one, or any on an agent type without one: allowed', () => {
      const stages: CategorizedStage[] = [
        { agent: 'sim_deployment' },
        { agent: 'deployment', category: 'cost_impacting' },
        { agent: 'noop', category: 'data_migration' },
        { agent: 'validation', category: 'security_affecting' },
      ];

      expect(() => checkCategoriesAllowed(stages, submitter)).not.to.throw();
    });

    it('an operator or an admin may override an implied category', () => {
      const stages: CategorizedStage[] = [{ agent: 'sim_deployment', category: 'technical_refactor' }];

      expect(() => checkCategoriesAllowed(stages, operator)).not.to.throw();
      expect(() => checkCategoriesAllowed(stages, admin)).not.to.throw();
    });
  });

  describe('inheritedCategories (a re-run)', () => {
    const stored = [
      { key: 'b', agent: 'noop', category: 'data_migration' },
      { key: 'd', agent: 'sim_deployment', category: 'technical_refactor', input: { x: 1 } },
      { key: 'm', agent: 'migration', category: 'data_migration' },
    ];

    it('for a re-runner without override_category: an override is dropped, everything else kept', () => {
      expect(inheritedCategories(stored, submitter)).to.deep.equal([
        { key: 'b', agent: 'noop', category: 'data_migration' },
        { key: 'd', agent: 'sim_deployment', input: { x: 1 } },
        { key: 'm', agent: 'migration', category: 'data_migration' },
      ]);
    });

    it('for an operator: kept as stored; anything not a stage object is passed through', () => {
      expect(inheritedCategories(stored, operator)).to.deep.equal(stored);
      expect(inheritedCategories([null, 'x', { agent: 7, category: 'cost_impacting' }], submitter)).to.deep.equal([
        null,
        'x',
        { agent: 7, category: 'cost_impacting' },
      ]);
    });
  });
});
