-- Schedules (docs/pipeline-operations.md, "Schedules"): the schedules table is the record of
-- each schedule (what it submits, its cron or interval, its overlap policy, active or paused),
-- schedule_ticks one row per tick its BullMQ job scheduler fired (started, waiting, skipped or
-- failed, and the run it started), and pipelines.schedule_id and scheduled_for link a run to
-- its schedule and tick. pipelines.schedule_id has no index and no foreign key: a schedule's runs
-- are read through schedule_ticks, and a deleted schedule leaves its runs as they were.
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "schedule_id" UUID,
ADD COLUMN     "scheduled_for" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "schedules" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "request" JSONB NOT NULL,
    "cron" TEXT,
    "timezone" TEXT,
    "every_ms" BIGINT,
    "start_at" TIMESTAMPTZ(3),
    "end_at" TIMESTAMPTZ(3),
    "overlap" TEXT NOT NULL DEFAULT 'skip',
    "state" TEXT NOT NULL DEFAULT 'active',
    "owner" TEXT NOT NULL,
    "owner_identity" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_tick_at" TIMESTAMPTZ(3),

    CONSTRAINT "schedules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "schedule_ticks" (
    "schedule_id" UUID NOT NULL,
    "scheduled_for" TIMESTAMPTZ(3) NOT NULL,
    "outcome" TEXT NOT NULL,
    "reason" TEXT,
    "pipeline_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_ticks_pkey" PRIMARY KEY ("schedule_id","scheduled_for")
);

-- CreateIndex
CREATE INDEX "schedules_created_at_id_idx" ON "schedules"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "schedule_ticks_schedule_id_outcome_idx" ON "schedule_ticks"("schedule_id", "outcome");

-- AddForeignKey
ALTER TABLE "schedule_ticks" ADD CONSTRAINT "schedule_ticks_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

