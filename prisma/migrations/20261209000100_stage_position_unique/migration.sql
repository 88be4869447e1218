-- A stage's position is its index in the pipeline's definition: unique within the pipeline. The
-- settled check walks a pipeline's stages backwards one position at a time
-- (src/infra/db/lifecycle-sql.ts, stillMovingSql), which holds only if no two share one.
DROP INDEX "stages_pipeline_id_position_idx";

-- CreateIndex
CREATE UNIQUE INDEX "stages_pipeline_id_position_key" ON "stages"("pipeline_id", "position");
