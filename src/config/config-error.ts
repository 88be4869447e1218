// The error of a configuration that cannot be used: CONFIG_INVALID (a variable does not parse),
// CONFIG_REFUSED (production refuses a value that parses). Its own module so every file under
// src/config/ can import it without importing the loader (no import cycles).
import { ConfigurationError } from '../domain/errors.js';

/** The configuration cannot be used: `details` name each variable (field) and why (message). */
export class ConfigError extends ConfigurationError {
  override readonly name = 'ConfigError';
  /** One `VARIABLE: problem` line per detail, as printed. */
  get problems(): string[] {
    return this.details.map((detail) => `${detail.field}: ${detail.message}`);
  }
}

/** The printed form of a list of problems: a title, then one `  - VARIABLE: problem` line each. */
export function problemLines(title: string, details: ReadonlyArray<{ field: string; message: string }>): string {
  return [title, ...details.map(({ field, message }) => `  - ${field}: ${message}`)].join('\n');
}
