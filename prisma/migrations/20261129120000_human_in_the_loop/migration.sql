-- CreateEnum
CREATE TYPE "DecisionStatus" AS ENUM ('pending', 'escalated', 'approved', 'rejected', 'expired', 'cancelled');

-- CreateEnum
CREATE TYPE "ClarificationStatus" AS ENUM ('open', 'answered', 'cancelled');

-- AlterEnum
ALTER TYPE "StageStatus" ADD VALUE 'waiting';

-- AlterEnum
ALTER TYPE "RunStatus" ADD VALUE 'suspended';

-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "policy_version" TEXT;

-- AlterTable
ALTER TABLE "stages" ADD COLUMN     "approved_at" TIMESTAMPTZ(3),
ADD COLUMN     "auto_approve_at" REAL,
ADD COLUMN     "category" TEXT NOT NULL DEFAULT 'technical_refactor',
ADD COLUMN     "confidence" REAL,
ADD COLUMN     "gates" JSONB NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "gate_results" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "stage_id" UUID NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "metric" TEXT NOT NULL,
    "operator" TEXT NOT NULL,
    "threshold" JSONB,
    "severity" TEXT NOT NULL,
    "value" JSONB,
    "verdict" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "gate_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "decisions" (
    "id" TEXT NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "stage_id" UUID NOT NULL,
    "stage_key" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "status" "DecisionStatus" NOT NULL DEFAULT 'pending',
    "confidence" REAL NOT NULL,
    "threshold" REAL NOT NULL,
    "policy_version" TEXT NOT NULL,
    "quorum" INTEGER NOT NULL DEFAULT 1,
    "approvers" TEXT[],
    "evidence" JSONB NOT NULL,
    "on_deadline" TEXT NOT NULL,
    "deadline_at" TIMESTAMPTZ(3) NOT NULL,
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by" TEXT,
    "comment" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "decision_votes" (
    "id" BIGSERIAL NOT NULL,
    "decision_id" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "verdict" TEXT NOT NULL,
    "comment" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "decision_votes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "clarifications" (
    "id" UUID NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "stage_id" UUID,
    "stage_key" TEXT,
    "status" "ClarificationStatus" NOT NULL DEFAULT 'open',
    "questions" JSONB NOT NULL,
    "answers" JSONB,
    "asked_by" TEXT NOT NULL,
    "answered_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "answered_at" TIMESTAMPTZ(3),

    CONSTRAINT "clarifications_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "pipeline_events" (
    "id" BIGSERIAL NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "stage_key" TEXT,
    "actor" TEXT NOT NULL DEFAULT 'system',
    "data" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pipeline_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_cursors" (
    "name" TEXT NOT NULL,
    "last_id" BIGINT NOT NULL,

    CONSTRAINT "event_cursors_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "gate_results_pipeline_id_idx" ON "gate_results"("pipeline_id");

-- CreateIndex
CREATE INDEX "gate_results_run_id_idx" ON "gate_results"("run_id");

-- CreateIndex
CREATE INDEX "decisions_status_created_at_idx" ON "decisions"("status", "created_at" DESC);

-- CreateIndex
CREATE INDEX "decisions_pipeline_id_idx" ON "decisions"("pipeline_id");

-- CreateIndex
CREATE UNIQUE INDEX "decision_votes_decision_id_actor_key" ON "decision_votes"("decision_id", "actor");

-- CreateIndex
CREATE INDEX "clarifications_pipeline_id_idx" ON "clarifications"("pipeline_id");

-- CreateIndex
CREATE INDEX "clarifications_status_created_at_idx" ON "clarifications"("status", "created_at" DESC);

-- CreateIndex
CREATE INDEX "pipeline_events_pipeline_id_id_idx" ON "pipeline_events"("pipeline_id", "id");

-- AddForeignKey
ALTER TABLE "decisions" ADD CONSTRAINT "decisions_pipeline_id_fkey" FOREIGN KEY ("pipeline_id") REFERENCES "pipelines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "decision_votes" ADD CONSTRAINT "decision_votes_decision_id_fkey" FOREIGN KEY ("decision_id") REFERENCES "decisions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "clarifications" ADD CONSTRAINT "clarifications_pipeline_id_fkey" FOREIGN KEY ("pipeline_id") REFERENCES "pipelines"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Decision ids are DEC-<year>-<n>: n comes from this sequence (Prisma has no sequence model).
CREATE SEQUENCE "decision_number";
