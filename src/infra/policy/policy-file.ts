// Reads the decision policy from its YAML file; every error names the file.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseDecisionPolicy, type DecisionPolicy } from '../../domain/decision-policy.js';
import { ValidationError } from '../../domain/errors.js';

function attempt<T>(step: () => T, failure: string): T {
  try {
    return step();
  } catch (error) {
    throw new Error(`${failure}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Loads and validates a decision policy file; throws an Error (or a ValidationError) naming `path`. */
export function loadDecisionPolicy(path: string): DecisionPolicy {
  const text = attempt(() => readFileSync(path, 'utf8'), `decision policy ${path} cannot be read`);
  const raw: unknown = attempt(() => parse(text), `decision policy ${path} is not valid YAML`);
  try {
    return parseDecisionPolicy(raw);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const fields = error.details.map((d) => `${d.field}: ${d.message}`).join('; ');
    throw new ValidationError(error.code, `decision policy ${path} is invalid: ${fields}`, { details: error.details });
  }
}
