-- Re-run from a stage (docs/pipeline-operations.md, "Re-run from a stage"). A re-run is a new
-- pipeline: rerun_of names the pipeline it re-runs (no foreign key, so pruning the old one keeps
-- the new one), rerun_from the stages chosen to run again, and the index finds the re-runs of a
-- pipeline. A stage the re-run reused instead of running records the stage it took its output
-- from (reused_from) and that stage's pipeline (reused_from_pipeline).
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "rerun_from" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "rerun_of" UUID;

-- AlterTable
ALTER TABLE "stages" ADD COLUMN     "reused_from" UUID,
ADD COLUMN     "reused_from_pipeline" UUID;

-- CreateIndex
CREATE INDEX "pipelines_rerun_of_idx" ON "pipelines"("rerun_of");
