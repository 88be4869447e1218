-- Pause and resume (issue 17, docs/pipeline-operations.md "Pause and resume"): the stage status
-- paused (a stage released while its pipeline is paused waits in it, running nothing), who paused
-- a pipeline, when and why (cleared by a resume), and the agent types an operator paused (their
-- BullMQ queues are paused for every worker, and the reconciler pauses a queue again when Redis
-- lost the flag). Additive only.
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- AlterEnum
ALTER TYPE "StageStatus" ADD VALUE 'paused';

-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "pause_reason" TEXT,
ADD COLUMN     "paused_at" TIMESTAMPTZ(3),
ADD COLUMN     "paused_by" TEXT;

-- CreateTable
CREATE TABLE "agent_pauses" (
    "agent_type" TEXT NOT NULL,
    "paused_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paused_by" TEXT NOT NULL,
    "reason" TEXT,

    CONSTRAINT "agent_pauses_pkey" PRIMARY KEY ("agent_type")
);

