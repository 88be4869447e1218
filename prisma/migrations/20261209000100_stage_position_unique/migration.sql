-- A stage's position is its index in the pipeline's definition: unique within the pipeline. The
-- settled check walks a pipeline's stages backwards one position at a time
-- (src/infra/db/lifecycle-sql.ts, stillMovingSql), which holds only if no two share one. On a large
-- table, build the index CONCURRENTLY beforehand (docs/configuration.md, "Database migrations");
-- the new index is built before the old one goes, so the walk always has one.

-- CreateIndex
CREATE UNIQUE INDEX IF NOT EXISTS "stages_pipeline_id_position_key" ON "stages"("pipeline_id", "position");

DROP INDEX IF EXISTS "stages_pipeline_id_position_idx";
