-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "PipelineStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "StageStatus" AS ENUM ('pending', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'cancelled');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('running', 'succeeded', 'failed', 'cancelled', 'abandoned');

-- CreateTable
CREATE TABLE "pipelines" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "status" "PipelineStatus" NOT NULL DEFAULT 'queued',
    "template" TEXT,
    "input" JSONB,
    "definition" JSONB NOT NULL,
    "idempotency_key" TEXT,
    "request_hash" TEXT,
    "error" JSONB,
    "cancel_requested_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "pipelines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stages" (
    "id" UUID NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "agent" TEXT NOT NULL,
    "depends_on" TEXT[],
    "dependants" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "waiting_on" INTEGER NOT NULL DEFAULT 0,
    "input" JSONB NOT NULL,
    "retry_attempts" INTEGER NOT NULL,
    "retry_backoff" JSONB NOT NULL,
    "timeout_ms" INTEGER,
    "continue_on_failure" BOOLEAN NOT NULL DEFAULT false,
    "status" "StageStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "job_id" TEXT,
    "current_run_id" UUID,
    "run_worker_id" TEXT,
    "run_started_at" TIMESTAMPTZ(3),
    "output" JSONB,
    "error" JSONB,
    "queued_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "stages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stage_runs" (
    "id" UUID NOT NULL,
    "stage_id" UUID NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'running',
    "input" JSONB NOT NULL,
    "output" JSONB,
    "metrics" JSONB,
    "error" JSONB,
    "worker_id" TEXT NOT NULL,
    "job_id" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "stage_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "pipelines_idempotency_key_key" ON "pipelines"("idempotency_key");

-- CreateIndex
CREATE INDEX "pipelines_created_at_id_idx" ON "pipelines"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "pipelines_status_created_at_idx" ON "pipelines"("status", "created_at" DESC);

-- CreateIndex
CREATE INDEX "pipelines_name_created_at_idx" ON "pipelines"("name", "created_at" DESC);

-- CreateIndex
CREATE INDEX "stages_pipeline_id_position_idx" ON "stages"("pipeline_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "stages_pipeline_id_key_key" ON "stages"("pipeline_id", "key");

-- CreateIndex
CREATE INDEX "stage_runs_pipeline_id_idx" ON "stage_runs"("pipeline_id");

-- CreateIndex
CREATE UNIQUE INDEX "stage_runs_stage_id_attempt_key" ON "stage_runs"("stage_id", "attempt");

-- AddForeignKey
ALTER TABLE "stages" ADD CONSTRAINT "stages_pipeline_id_fkey" FOREIGN KEY ("pipeline_id") REFERENCES "pipelines"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "stage_runs" ADD CONSTRAINT "stage_runs_stage_id_fkey" FOREIGN KEY ("stage_id") REFERENCES "stages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

