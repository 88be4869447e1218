// Every JSON body goes through here: express.json with the body limit, a nesting bound checked
// on the raw bytes before JSON.parse (a deep body would overflow zod's stack: a 500), a key given
// twice in one object refused (JSON.parse would keep the last silently, another parser the first), then the
// parsed value's keys and strings checked for NUL, lone surrogates and length
// (src/http/unsafe-text.ts). Each refusal is a 400 naming the field, before any route runs.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ValidationError } from '../../domain/errors.js';
import { findShapeProblem } from '../json-nesting.js';
import { fieldOf, findUnsafeText, unsafeTextError, type TextLimits } from '../unsafe-text.js';

/** JSON_MAX_DEPTH, JSON_MAX_KEY_LENGTH and JSON_MAX_STRING_LENGTH (the last two also bound query strings). */
export interface InputLimits extends TextLimits {
  /** Deepest nesting of arrays and objects (`{}` is 1). */
  maxDepth: number;
}

export interface JsonBodyOptions extends InputLimits {
  /** Largest body, in body-parser's notation (`8mb`): HTTP_BODY_LIMIT. */
  limit: string;
}

/** Thrown inside body-parser's `verify` hook, which rewraps what it catches: recognised again on the way out. */
class BodyRefused extends Error {
  constructor(readonly refusal: ValidationError) {
    super(refusal.message);
  }
}

function utf8Of(bytes: Buffer, charset: string): Buffer {
  if (charset === 'utf-8' || charset === 'utf8') return bytes;
  // body-parser accepts any utf-* charset for JSON; the scan reads UTF-8, so others are re-encoded.
  let text: string;
  try {
    text = new TextDecoder(charset).decode(bytes);
  } catch {
    throw new BodyRefused(
      new ValidationError('UNSUPPORTED_MEDIA_TYPE', `The charset "${charset}" is not accepted for JSON.`, {
        details: [{ field: 'Content-Type', message: 'send JSON as UTF-8' }],
      }),
    );
  }
  return Buffer.from(text, 'utf8');
}

function refuseHiddenShapes(maxDepth: number) {
  return function verifyShape(_req: Request, _res: Response, raw: Buffer, charset: string) {
    const problem = findShapeProblem(utf8Of(raw, charset), maxDepth);
    if (problem?.kind === 'too_deep') {
      throw new BodyRefused(
        new ValidationError('JSON_TOO_DEEP', `The JSON body nests arrays and objects deeper than ${maxDepth} levels.`, {
          details: [{ field: '(body)', message: `nested deeper than ${maxDepth} levels (JSON_MAX_DEPTH)` }],
        }),
      );
    }
    if (problem?.kind === 'duplicate_key') {
      throw new BodyRefused(
        new ValidationError('VALIDATION_FAILED', 'The JSON body gives a key twice in one object.', {
          details: [
            {
              field: fieldOf(problem.path),
              message: 'this key appears more than once in its object: send it once (parsers differ on which value counts)',
              code: 'duplicate_key',
            },
          ],
        }),
      );
    }
  };
}

/** The JSON body parser of the app, with its nesting, character and length checks. */
export function jsonBody({ limit, maxDepth, maxKeyLength, maxStringLength }: JsonBodyOptions): RequestHandler {
  const parse = express.json({ limit, verify: refuseHiddenShapes(maxDepth) });
  return function parseJsonBody(req: Request, res: Response, next: NextFunction) {
    parse(req, res, (error?: unknown) => {
      if (error !== undefined && error !== null) {
        next(error instanceof BodyRefused ? error.refusal : error);
        return;
      }
      const found = findUnsafeText(req.body, { maxKeyLength, maxStringLength });
      next(found.length > 0 ? unsafeTextError(found) : undefined);
    });
  };
}
