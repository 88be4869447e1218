// The scaffold agent's `writeCode` hook on an OpenAI-compatible endpoint: the model gets the
// template's files and the requirements and answers with the files to add or replace, as one JSON
// object. What it answers is checked before anything is written; the scaffold agent refuses paths
// that leave the project.
import { z } from 'zod';
import { DownstreamError } from '../../domain/errors.js';
import type { ChatClient } from '../llm-client.js';
import type { ScaffoldCodeRequest, ScaffoldCodeResult } from './scaffold.agent.js';

/** Template files larger than this are named but not sent (lockfiles, assets). */
const MAX_FILE_CHARS = 20_000;
const MAX_FILES = 50;

const answerSchema = z.object({
  files: z.array(z.object({ path: z.string().min(1).max(500), content: z.string().max(500_000) }).strict()).max(MAX_FILES),
});

const SYSTEM = [
  'You write code into a freshly scaffolded TypeScript project.',
  'Answer with one JSON object: {"files":[{"path":"<relative path>","content":"<whole file>"}]}, nothing else.',
  'List only files you add or replace; give each file whole. Keep the health endpoint, the test setup and the scripts of package.json working:',
  'the project must still typecheck, lint, pass its tests and start with `npm start`.',
].join(' ');

function userMessage(request: ScaffoldCodeRequest): string {
  const files = request.files.map((file) =>
    file.content.length > MAX_FILE_CHARS
      ? `--- ${file.path} (not shown: ${file.content.length} characters)`
      : `--- ${file.path}\n${file.content}`,
  );
  return [
    `Project: ${request.name} (template ${request.template}): ${request.description}`,
    `Requirements:\n${request.requirements}`,
    `The files as the template made them:\n${files.join('\n')}`,
  ].join('\n\n');
}

/** A `writeCode` hook that asks `client`; an answer that is not the JSON asked for is a retryable LLM_RESPONSE_INVALID. */
export function createLlmCodeWriter(client: ChatClient, maxTokens = 8192): (request: ScaffoldCodeRequest) => Promise<ScaffoldCodeResult> {
  return async (request) => {
    const result = await client.complete({
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: userMessage(request) },
      ],
      temperature: 0,
      maxTokens,
      responseFormat: 'json_object',
      signal: request.signal,
    });
    request.logger.info('code written by the model', { model: result.model, totalTokens: result.usage.totalTokens });
    let answer: unknown;
    try {
      answer = JSON.parse(result.content);
    } catch {
      throw new DownstreamError('LLM_RESPONSE_INVALID', `the model answered with no JSON object: ${result.content.slice(0, 300)}`);
    }
    const parsed = answerSchema.safeParse(answer);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DownstreamError(
        'LLM_RESPONSE_INVALID',
        `the model's files are not {"files":[{path, content}]}: ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    return { files: parsed.data.files };
  };
}
