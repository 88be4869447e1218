// The answers to a clarification's questions: from --answers (a JSON object by question id), by
// asking each question when stdin is a terminal, or else one answer per line from stdin, in the
// order the questions are listed.
import { createInterface } from 'node:readline/promises';
import type { CliStdin } from './context.js';
import { usageError } from './exit-codes.js';
import type { Output } from './output.js';
import { tty } from './terminal-text.js';

export interface Question {
  id: string;
  question: string;
}

async function readAll(stdin: CliStdin): Promise<string> {
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

async function prompt(questions: readonly Question[], stdin: CliStdin, output: Output): Promise<Record<string, string>> {
  // Prompts go to stderr: stdout keeps the result for whoever reads it.
  const rl = createInterface({ input: stdin, output: process.stderr, terminal: true });
  const answers: Record<string, string> = {};
  try {
    for (const [i, q] of questions.entries()) {
      output.err(tty`(${i + 1}/${questions.length}) ${q.question}  [${q.id}]`);
      let answer = '';
      while (answer === '') answer = (await rl.question('> ')).trim();
      answers[q.id] = answer;
    }
  } finally {
    rl.close();
  }
  return answers;
}

export async function collectAnswers(
  questions: readonly Question[],
  given: Record<string, unknown> | undefined,
  stdin: CliStdin,
  output: Output,
): Promise<Record<string, unknown>> {
  if (given !== undefined) return given;
  if (stdin.isTTY) return prompt(questions, stdin, output);
  const lines = (await readAll(stdin))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length !== questions.length)
    throw usageError(
      `answer: stdin gave ${lines.length} answer line(s) for ${questions.length} question(s) (${questions.map((q) => q.id).join(', ')}); ` +
        `give one line per question, in that order, or --answers '{"<question id>":"…"}'`,
    );
  return Object.fromEntries(questions.map((q, i) => [q.id, lines[i]!]));
}
