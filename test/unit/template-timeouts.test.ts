// The shipped templates give a `validation` stage a timeout of its own (`timeoutMs`) and the agent a
// timeout per command (`input.timeoutMs`, default VALIDATION_COMMAND_TIMEOUT_MS). When a command
// may run as long as the stage, the stage's timeout always fires first: a repository whose test
// hangs ended as a bare STAGE_TIMEOUT (retried, in `sdlc`, three times over 45 minutes) and never
// as the agent's own VALIDATION_TOOL_FAILED naming the command, with the end of its output.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { VALIDATION_COMMAND_TIMEOUT_MS } from '../../src/agents/sdlc/validation.agent.js';

const TEMPLATES = join(import.meta.dirname, '../../templates');

interface StageYaml {
  key: string;
  agent: string;
  timeoutMs?: number;
  input?: { timeoutMs?: number };
}

describe('shipped templates: validation command timeouts (unit)', () => {
  it('every validation stage with a timeoutMs gives each command less time than the stage', () => {
    // Arrange
    const stages = readdirSync(TEMPLATES)
      .filter((file) => file.endsWith('.yaml'))
      .flatMap((file) =>
        (parse(readFileSync(join(TEMPLATES, file), 'utf8')) as { stages: StageYaml[] }).stages.map((stage) => ({ file, ...stage })),
      )
      .filter((stage) => stage.agent === 'validation' && stage.timeoutMs !== undefined);

    // Act
    const tooLong = stages
      .filter((stage) => (stage.input?.timeoutMs ?? VALIDATION_COMMAND_TIMEOUT_MS) >= stage.timeoutMs!)
      .map((stage) => `${stage.file} ${stage.key}`);

    // Assert
    expect(stages.map((s) => s.file)).to.include.members(['repo-checks.yaml', 'sdlc.yaml']);
    expect(tooLong).to.deep.equal([]);
  });
});
