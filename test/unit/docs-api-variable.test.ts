// The docs' shell examples share the README tour's `API` variable, the API's `/api/v1` base
// (`API=http://127.0.0.1:${PORT:-3000}/api/v1`). A path written after it must not repeat
// `/api/v1` (that requests /api/v1/api/v1/…, a 404 ROUTE_NOT_FOUND), nor name a route that is
// not under /api/v1 (`/health`, `/metrics`, `/admin/queues`, `/dashboard`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

const ROOT = new URL('../..', import.meta.url).pathname;
const WRONG_AFTER_API = /\$\{?API\}?\/(?:api\/|health\b|metrics\b|admin\/|dashboard\b)/;

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

describe('docs: the $API variable (unit)', () => {
  it('every `$API/…` in README.md and docs/*.md is a path under /api/v1, written without repeating it', () => {
    // Arrange
    const offending: string[] = [];

    // Act
    for (const file of markdownFiles()) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          if (WRONG_AFTER_API.test(line)) offending.push(`${file}:${index + 1}: ${line.trim()}`);
        });
    }

    // Assert
    expect(offending, offending.join('\n')).to.deep.equal([]);
  });

  it('docs that use $API in an example say what it holds, or define it in a block', () => {
    const silent = markdownFiles().filter((file) => {
      const text = readFileSync(join(ROOT, file), 'utf8');
      return /\$\{?API\}?\//.test(text) && !/API=http/.test(text);
    });
    expect(silent).to.deep.equal([]);
  });
});
