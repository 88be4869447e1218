// The error of a process that cannot start: the entries print its message for the operator,
// without a stack. Here so the boot checks (infra) and the process plumbing (lifecycle) share it.
import { AppError, ERROR_CODES, type AppErrorOptions, type CodeOf, type ErrorCategory } from './errors.js';

/** A start-up failure with a message meant for the operator, printed without a stack. */
export class BootError extends AppError<CodeOf<'configuration'> | CodeOf<'unavailable'>> {
  override readonly name = 'BootError';
  readonly category: ErrorCategory;
  constructor(code: CodeOf<'configuration'> | CodeOf<'unavailable'>, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.category = ERROR_CODES[code].category;
  }
}
