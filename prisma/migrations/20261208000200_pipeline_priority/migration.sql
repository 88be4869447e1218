-- Pipeline priorities and deadlines (issue 17, docs/pipeline-operations.md "Priorities and
-- deadlines"). priority: the level every stage job of the pipeline carries into BullMQ and the
-- order admission starts queued pipelines in (the enum's order is urgent, high, normal, low, as
-- in src/domain/pipeline-priority.ts). deadline_at: when an unfinished pipeline is cancelled,
-- with cancel_reason DEADLINE_EXCEEDED (null: cancelled by a person). The index serves the
-- reconciler's scan of the deadlines it keeps scheduled. Additive only: existing pipelines are
-- normal, without a deadline.
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- CreateEnum
CREATE TYPE "PipelinePriority" AS ENUM ('urgent', 'high', 'normal', 'low');

-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "cancel_reason" TEXT,
ADD COLUMN     "deadline_at" TIMESTAMPTZ(3),
ADD COLUMN     "priority" "PipelinePriority" NOT NULL DEFAULT 'normal';

-- CreateIndex
CREATE INDEX "pipelines_deadline_at_idx" ON "pipelines"("deadline_at");
