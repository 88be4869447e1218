// ctx.requestClarification's questions go whole into the clarification.requested event and its
// webhook: they get the rule the other webhook events' agent text gets (an error message in
// stage.finished and pipeline.finished is cut to MAX_MESSAGE by classifyError), in one home.
import { expect } from 'chai';
import { ClarificationRequest, MAX_CLARIFICATION_QUESTIONS } from '../../src/domain/clarification-request.js';
import { classifyError, MAX_MESSAGE } from '../../src/domain/errors.js';
import type { ClarificationQuestion } from '../../src/domain/requirements-check.js';

describe('ClarificationRequest (unit)', () => {
  const huge = 'x'.repeat(1024 * 1024);

  it('a 1 MB question string is cut to MAX_MESSAGE, the length an error message of pipeline.finished is cut to', () => {
    // Act
    const request = new ClarificationRequest([huge]);
    // Assert
    expect(request.questions).to.have.length(1);
    expect(request.questions[0]).to.deep.include({ id: 'q1', reason: 'asked_by_agent' });
    expect(request.questions[0]!.question).to.have.length(MAX_MESSAGE);
    expect(request.questions[0]!.question).to.have.length(classifyError(new Error(huge)).message.length);
  });

  it('a question object: its text is cut the same way, and keys other than id, reason and question are dropped', () => {
    // Arrange
    const asked = { id: 'store', reason: 'asked_by_agent', question: huge, attachment: huge } as ClarificationQuestion;
    // Act
    const [question] = new ClarificationRequest([asked, 'short one']).questions;
    // Assert
    expect(question).to.deep.equal({ id: 'store', reason: 'asked_by_agent', question: huge.slice(0, MAX_MESSAGE) });
  });

  it(`more than ${MAX_CLARIFICATION_QUESTIONS} questions, a 201-character id or an unknown reason: a TypeError naming the problem, no request`, () => {
    const many = Array.from({ length: MAX_CLARIFICATION_QUESTIONS + 1 }, (_, i) => `question ${i}`);
    expect(() => new ClarificationRequest(many)).to.throw(TypeError, /^requestClarification: questions: /);
    expect(new ClarificationRequest(many.slice(1)).questions).to.have.length(MAX_CLARIFICATION_QUESTIONS);
    const longId = { id: 'i'.repeat(201), reason: 'asked_by_agent', question: 'q' } as ClarificationQuestion;
    expect(() => new ClarificationRequest([longId])).to.throw(TypeError, /^requestClarification: 0\.id: /);
    const oddReason = { id: 'a', reason: 'because', question: 'q' } as unknown as ClarificationQuestion;
    expect(() => new ClarificationRequest([oddReason])).to.throw(TypeError, /^requestClarification: 0\.reason: /);
  });
});
