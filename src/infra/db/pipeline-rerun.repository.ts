// What a re-run reads of the old pipeline (services/rerun.service.ts): its status, submitter,
// template, labels, priority, input (answers included) and stored definition, and every stage's key, agent,
// input (answers included), dependencies, status, output and the output's contract version, in
// definition order. One snapshot: the rule and the outputs it
// reuses come from the same state.
import type { RerunSourceReader } from '../../services/rerun.ports.js';
import type { JsonValue } from '../../domain/json.js';
import { asLabels, asObject } from './mappers.js';
import type { Database } from './database.js';

export function createRerunSourceReader({ prisma: db }: Database): RerunSourceReader {
  return {
    async readRerunSource(pipelineId) {
      const row = await db.pipeline.findUnique({
        where: { id: pipelineId },
        select: {
          id: true,
          status: true,
          submitter: true,
          template: true,
          labels: true,
          priority: true,
          input: true,
          definition: true,
          stages: {
            orderBy: { position: 'asc' },
            select: {
              id: true,
              key: true,
              agent: true,
              input: true,
              dependsOn: true,
              status: true,
              output: true,
              outputContractVersion: true,
            },
          },
        },
      });
      if (!row) return null;
      return {
        id: row.id,
        status: row.status,
        submitter: row.submitter,
        template: row.template,
        labels: asLabels(row.labels),
        priority: row.priority,
        input: asObject(row.input),
        definition: row.definition,
        stages: row.stages.map((stage) => ({
          id: stage.id,
          key: stage.key,
          agent: stage.agent,
          input: asObject(stage.input),
          dependsOn: stage.dependsOn,
          status: stage.status,
          output: (stage.output ?? null) as JsonValue | null,
          outputContractVersion: stage.outputContractVersion,
        })),
      };
    },
  };
}
