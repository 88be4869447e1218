// Unit tests for clarification checks (src/domain/requirements-check.ts): pure functions, no I/O.
import { expect } from 'chai';
import {
  AMBIGUOUS_TERMS,
  MIN_REQUIREMENTS_CONFIDENCE,
  MIN_REQUIREMENTS_LENGTH,
  checkRequirements,
  mergeAnswers,
  validateAnswers,
  type ClarificationQuestion,
} from '../../src/domain/requirements-check.js';

const CLEAN = 'Add a POST /orders endpoint that stores the order and returns its id.';
const CRITERIA = ['POST /orders returns 201 with the new id', 'the order is stored in Postgres'];

function ids(questions: ClarificationQuestion[]): string[] {
  return questions.map((q) => q.id);
}

function ambiguousIds(requirements: string, acceptanceCriteria: unknown = CRITERIA): string[] {
  return ids(checkRequirements({ requirements, acceptanceCriteria })).filter((id) => id.startsWith('ambiguous:'));
}

describe('checkRequirements', () => {
  describe('clean input', () => {
    it('clear requirements with criteria and high confidence: asks nothing', () => {
      expect(checkRequirements({ requirements: CLEAN, acceptanceCriteria: CRITERIA, confidence: 95 })).to.deep.equal([]);
    });

    it('requirements that are not a string: asks nothing', () => {
      for (const requirements of [undefined, null, 42, ['text'], { text: 'x' }]) {
        expect(checkRequirements({ requirements, acceptanceCriteria: [], confidence: 0 })).to.deep.equal([]);
      }
    });
  });

  describe('ambiguous terms', () => {
    const required = [
      'maybe',
      'could',
      'might',
      'possibly',
      'perhaps',
      'some',
      'few',
      'several',
      'various',
      'many',
      'etc',
      'tbd',
      'approximately',
      'roughly',
      'as needed',
      'if possible',
      'and so on',
    ];

    it('term list: holds every required term', () => {
      expect(AMBIGUOUS_TERMS).to.include.members(required);
    });

    for (const term of required) {
      it(`"${term}" in upper case: raises one question quoting it`, () => {
        const questions = checkRequirements({
          requirements: `Build the export endpoint, ${term.toUpperCase()} for admins.`,
          acceptanceCriteria: CRITERIA,
        });

        const ambiguous = questions.filter((q) => q.reason === 'ambiguous_term');
        expect(ambiguous).to.have.length(1);
        expect(ambiguous[0]!.id).to.equal(`ambiguous:${term.replaceAll(' ', '-')}`);
        expect(ambiguous[0]!.question).to.contain(`"${term}"`);
      });
    }

    it('"etc." with and without the dot: both match', () => {
      expect(ambiguousIds('Support CSV, JSON, etc. in the export.')).to.deep.equal(['ambiguous:etc']);
      expect(ambiguousIds('Support CSV, JSON etc in the export.')).to.deep.equal(['ambiguous:etc']);
    });

    it('phrase across a line break or double space: matches', () => {
      expect(ambiguousIds('Scale the workers as\n  needed by the queue length.')).to.deep.equal(['ambiguous:as-needed']);
      expect(ambiguousIds('Export CSV, JSON  and   so on for every report.')).to.deep.equal(['ambiguous:and-so-on']);
    });

    it('terms inside longer words: no false positives', () => {
      const requirements = 'Something handsome in the couldron: a manyfold fewer-than check, mighty variousness, perhapsy, Tbdx, etcetera.';

      expect(ambiguousIds(requirements)).to.deep.equal([]);
    });

    it('hyphenated words and contractions: are not the bare term', () => {
      expect(ambiguousIds("Model the many-to-many link between orders and tags; it couldn't be simpler.")).to.deep.equal([]);
    });

    it('term repeated: asks once', () => {
      expect(ambiguousIds('Some users need some reports for some teams.')).to.deep.equal(['ambiguous:some']);
    });

    it('term only in the acceptance criteria: asks, saying where it was found', () => {
      const questions = checkRequirements({ requirements: CLEAN, acceptanceCriteria: ['responds in roughly 200 ms'] });

      expect(questions).to.deep.equal([
        {
          id: 'ambiguous:roughly',
          reason: 'ambiguous_term',
          question: 'The acceptance criteria say "roughly": what is the exact value or the acceptable range?',
        },
      ]);
    });

    it('quantity term: asks how many', () => {
      const [question] = checkRequirements({ requirements: 'Show some recent orders on the dashboard.', acceptanceCriteria: CRITERIA });

      expect(question!.question).to.equal('The requirements say "some": how many exactly?');
    });
  });

  describe('length', () => {
    it(`${MIN_REQUIREMENTS_LENGTH - 1} characters after trimming: too short`, () => {
      const questions = checkRequirements({ requirements: `  ${'a'.repeat(MIN_REQUIREMENTS_LENGTH - 1)}  `, acceptanceCriteria: CRITERIA });

      expect(questions).to.have.length(1);
      expect(questions[0]).to.deep.include({ id: 'too-short', reason: 'too_short' });
    });

    it(`${MIN_REQUIREMENTS_LENGTH} characters: long enough`, () => {
      expect(checkRequirements({ requirements: 'a'.repeat(MIN_REQUIREMENTS_LENGTH), acceptanceCriteria: CRITERIA })).to.deep.equal([]);
    });

    it('empty string: too short and still checked for criteria', () => {
      expect(ids(checkRequirements({ requirements: '' }))).to.deep.equal(['too-short', 'missing-acceptance-criteria']);
    });
  });

  describe('acceptance criteria', () => {
    for (const [label, acceptanceCriteria] of [
      ['missing', undefined],
      ['empty', []],
      ['a string', 'it works'],
      ['holding a blank entry', ['returns 201', '  ']],
      ['holding a non-string', ['returns 201', 7]],
    ] as const) {
      it(`criteria ${label}: asks for acceptance criteria`, () => {
        const questions = checkRequirements({ requirements: CLEAN, acceptanceCriteria });

        expect(ids(questions)).to.deep.equal(['missing-acceptance-criteria']);
        expect(questions[0]!.reason).to.equal('missing_acceptance_criteria');
      });
    }
  });

  describe('confidence', () => {
    it(`confidence ${MIN_REQUIREMENTS_CONFIDENCE - 1}: asks what is unclear`, () => {
      const questions = checkRequirements({
        requirements: CLEAN,
        acceptanceCriteria: CRITERIA,
        confidence: MIN_REQUIREMENTS_CONFIDENCE - 1,
      });

      expect(questions).to.have.length(1);
      expect(questions[0]).to.deep.include({ id: 'low-confidence', reason: 'low_confidence' });
      expect(questions[0]!.question).to.contain('69%');
    });

    it(`confidence ${MIN_REQUIREMENTS_CONFIDENCE}: asks nothing`, () => {
      expect(
        checkRequirements({ requirements: CLEAN, acceptanceCriteria: CRITERIA, confidence: MIN_REQUIREMENTS_CONFIDENCE }),
      ).to.deep.equal([]);
    });

    it('confidence missing or unusable: asks nothing about it', () => {
      for (const confidence of [undefined, null, '10', Number.NaN, 150]) {
        expect(checkRequirements({ requirements: CLEAN, acceptanceCriteria: CRITERIA, confidence })).to.deep.equal([]);
      }
    });
  });

  describe('everything wrong at once', () => {
    it('short, vague, no criteria, low confidence: one question each, in a stable order', () => {
      const questions = checkRequirements({ requirements: 'maybe some stuff', confidence: 40 });

      expect(ids(questions)).to.deep.equal([
        'too-short',
        'ambiguous:maybe',
        'ambiguous:some',
        'missing-acceptance-criteria',
        'low-confidence',
      ]);
    });
  });
});

describe('answers', () => {
  const questions = checkRequirements({ requirements: 'maybe', confidence: 10 });

  it('questions used below: are the ones expected', () => {
    expect(ids(questions)).to.deep.equal(['too-short', 'ambiguous:maybe', 'missing-acceptance-criteria', 'low-confidence']);
  });

  describe('validateAnswers', () => {
    it('every question answered: no problems', () => {
      const answers = Object.fromEntries(questions.map((q) => [q.id, 'an answer']));

      expect(validateAnswers(questions, answers)).to.deep.equal([]);
    });

    it('missing, blank, too long and unknown answers: each reported on its field', () => {
      const answers = { 'too-short': '   ', 'ambiguous:maybe': 'x'.repeat(4001), 'low-confidence': 'fine', surprise: 'hello' };

      const details = validateAnswers(questions, answers);

      expect(details.map((d) => [d.field, d.code])).to.deep.equal([
        ['answers.too-short', 'missing_answer'],
        ['answers.ambiguous:maybe', 'too_big'],
        ['answers.missing-acceptance-criteria', 'missing_answer'],
        ['answers.surprise', 'unknown_question'],
      ]);
    });

    it('answer of exactly 4000 characters: accepted', () => {
      const answers = Object.fromEntries(questions.map((q) => [q.id, 'y'.repeat(4000)]));

      expect(validateAnswers(questions, answers)).to.deep.equal([]);
    });

    it('answer that is not a string: reported as invalid_type', () => {
      const answers: Record<string, unknown> = Object.fromEntries(questions.map((q) => [q.id, 'ok']));
      answers['low-confidence'] = 42;

      expect(validateAnswers(questions, answers)).to.deep.equal([
        { field: 'answers.low-confidence', code: 'invalid_type', message: 'the answer must be a string' },
      ]);
    });

    it('no questions and no answers: no problems', () => {
      expect(validateAnswers([], {})).to.deep.equal([]);
    });
  });

  describe('mergeAnswers', () => {
    it('answers for some questions: pairs them in question order, trimmed, ignoring unknown ids', () => {
      const answers = { 'low-confidence': ' The API spec is attached. ', 'too-short': 'Build the order export.', surprise: 'x' };

      const merged = mergeAnswers(questions, answers);

      expect(merged).to.deep.equal([
        { id: 'too-short', question: questions[0]!.question, answer: 'Build the order export.' },
        { id: 'low-confidence', question: questions[3]!.question, answer: 'The API spec is attached.' },
      ]);
    });
  });
});
