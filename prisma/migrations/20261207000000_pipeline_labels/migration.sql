-- Pipeline labels and trace ids (docs/api.md, "Labels"): key/value tags given at submission,
-- filtered with jsonb containment (labels @> '{"team":"payments"}'), which the GIN index with
-- jsonb_path_ops serves. trace_id is the W3C trace id of the submission's span (null: tracing
-- off, or submitted before it was recorded).
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "labels" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "trace_id" TEXT;

-- CreateIndex
CREATE INDEX "pipelines_labels_idx" ON "pipelines" USING GIN ("labels" jsonb_path_ops);
