// Clarification checks on a stage's requirements: the questions to put to a human before an agent
// builds on vague, thin or low-confidence requirements, and validation of the human's answers.
import { normalizeConfidence } from './decision-policy.js';
import type { ErrorDetail } from './errors.js';
import { isProseText, PROSE_CONTROL_CHARACTER_MESSAGE } from './display-text.js';

export const MIN_REQUIREMENTS_LENGTH = 20;
/** Percent, like every confidence in this project. */
export const MIN_REQUIREMENTS_CONFIDENCE = 70;
export const MAX_ANSWER_LENGTH = 4000;

type TermKind = 'quantity' | 'optional' | 'open_list' | 'undecided' | 'inexact' | 'conditional';

const TERM_KINDS = {
  maybe: 'optional',
  could: 'optional',
  might: 'optional',
  possibly: 'optional',
  perhaps: 'optional',
  'if possible': 'optional',
  some: 'quantity',
  few: 'quantity',
  several: 'quantity',
  various: 'quantity',
  many: 'quantity',
  etc: 'open_list',
  'and so on': 'open_list',
  tbd: 'undecided',
  approximately: 'inexact',
  roughly: 'inexact',
  'as needed': 'conditional',
} as const satisfies Record<string, TermKind>;

export type AmbiguousTerm = keyof typeof TERM_KINDS;
export const AMBIGUOUS_TERMS = Object.freeze(Object.keys(TERM_KINDS) as AmbiguousTerm[]);

const FOLLOW_UP: Record<TermKind, string> = {
  quantity: 'how many exactly?',
  optional: 'is this required or optional?',
  open_list: 'what is the complete list?',
  undecided: 'what has been decided?',
  inexact: 'what is the exact value or the acceptable range?',
  conditional: 'under which conditions exactly?',
};

// Letters, digits, hyphens and apostrophes continue a word, so "something", "many-to-many" and
// "couldn't" do not count as the bare terms; "etc." matches since the dot ends the word.
const WORD_CHAR = "[\\p{L}\\p{N}_'\u2019-]";
const TERM_PATTERNS: ReadonlyArray<readonly [AmbiguousTerm, RegExp]> = AMBIGUOUS_TERMS.map((term) => [
  term,
  new RegExp(`(?<!${WORD_CHAR})${term.split(' ').join('\\s+')}(?!${WORD_CHAR})`, 'iu'),
]);

export interface ClarificationQuestion {
  /** Stable across runs, so an answer can be matched to its question: `ambiguous:as-needed`. */
  id: string;
  reason: 'ambiguous_term' | 'missing_acceptance_criteria' | 'too_short' | 'low_confidence' | 'asked_by_agent';
  question: string;
}

export interface RequirementsInput {
  requirements?: unknown;
  acceptanceCriteria?: unknown;
  confidence?: unknown;
}

function criteriaStrings(criteria: unknown): string[] {
  return Array.isArray(criteria) ? criteria.filter((c): c is string => typeof c === 'string') : [];
}

function hasUsableCriteria(criteria: unknown): boolean {
  return Array.isArray(criteria) && criteria.length > 0 && criteria.every((c) => typeof c === 'string' && c.trim() !== '');
}

function ambiguityQuestions(requirements: string, criteria: readonly string[]): ClarificationQuestion[] {
  const questions: ClarificationQuestion[] = [];
  for (const [term, pattern] of TERM_PATTERNS) {
    const where = pattern.test(requirements) ? 'requirements' : criteria.some((c) => pattern.test(c)) ? 'acceptance criteria' : null;
    if (!where) continue;
    questions.push({
      id: `ambiguous:${term.replaceAll(' ', '-')}`,
      reason: 'ambiguous_term',
      question: `The ${where} say "${term}": ${FOLLOW_UP[TERM_KINDS[term]]}`,
    });
  }
  return questions;
}

/**
 * The questions a human should answer before work starts; [] when `requirements` is not a string
 * (nothing to check) or when nothing is unclear. A missing confidence raises no question.
 */
export function checkRequirements(input: RequirementsInput): ClarificationQuestion[] {
  const { requirements, acceptanceCriteria, confidence } = input;
  if (typeof requirements !== 'string') return [];
  const questions: ClarificationQuestion[] = [];

  // Code points, so a short requirement in a non-Latin script is not counted twice.
  if ([...requirements.trim()].length < MIN_REQUIREMENTS_LENGTH) {
    questions.push({
      id: 'too-short',
      reason: 'too_short',
      question: `The requirements are under ${MIN_REQUIREMENTS_LENGTH} characters: what exactly should be built?`,
    });
  }
  questions.push(...ambiguityQuestions(requirements, criteriaStrings(acceptanceCriteria)));
  if (!hasUsableCriteria(acceptanceCriteria)) {
    questions.push({
      id: 'missing-acceptance-criteria',
      reason: 'missing_acceptance_criteria',
      question: 'There are no acceptance criteria: how will we know the work is done?',
    });
  }
  const percent = normalizeConfidence(confidence);
  if (percent !== null && percent < MIN_REQUIREMENTS_CONFIDENCE) {
    questions.push({
      id: 'low-confidence',
      reason: 'low_confidence',
      question: `The requirements were understood with only ${percent}% confidence: what is missing or unclear?`,
    });
  }
  return questions;
}

function answerFor(answers: Readonly<Record<string, unknown>>, id: string): unknown {
  return Object.hasOwn(answers, id) ? answers[id] : undefined;
}

/** Pairs each answered question with its (trimmed) answer, in question order. */
export function mergeAnswers(
  questions: readonly ClarificationQuestion[],
  answers: Readonly<Record<string, unknown>>,
): { question: string; answer: string; id: string }[] {
  return questions.flatMap((q) => {
    const answer = answerFor(answers, q.id);
    return typeof answer === 'string' && answer.trim() !== '' ? [{ id: q.id, question: q.question, answer: answer.trim() }] : [];
  });
}

/**
 * Problems with a human's answers: every question needs a non-empty string of at most 4000
 * characters, and an answer to a question that was not asked is reported too.
 */
export function validateAnswers(questions: readonly ClarificationQuestion[], answers: Readonly<Record<string, unknown>>): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const asked = new Set(questions.map((q) => q.id));
  for (const { id } of questions) {
    const answer = answerFor(answers, id);
    const field = `answers.${id}`;
    if (answer === undefined) details.push({ field, code: 'missing_answer', message: 'an answer is required' });
    else if (typeof answer !== 'string') details.push({ field, code: 'invalid_type', message: 'the answer must be a string' });
    else if (answer.trim() === '') details.push({ field, code: 'missing_answer', message: 'the answer must not be empty' });
    else if (answer.length > MAX_ANSWER_LENGTH)
      details.push({ field, code: 'too_big', message: `the answer is over ${MAX_ANSWER_LENGTH} characters` });
    else if (!isProseText(answer)) details.push({ field, code: 'control_character', message: PROSE_CONTROL_CHARACTER_MESSAGE });
  }
  for (const id of Object.keys(answers)) {
    if (!asked.has(id)) details.push({ field: `answers.${id}`, code: 'unknown_question', message: `no question "${id}" was asked` });
  }
  return details;
}
