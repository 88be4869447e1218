-- Idempotency-Key on POST /api/v1/schedules: one row per (creating identity, key), its primary
-- key deciding between concurrent creates. The row outlives its schedule (schedule_id set null on
-- delete), so a retried create of a deleted schedule is refused instead of creating it again.
-- A new, empty table: nothing existing is rewritten.
-- CreateTable
CREATE TABLE "schedule_idempotency_keys" (
    "owner" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "schedule_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "schedule_idempotency_keys_pkey" PRIMARY KEY ("owner","idempotency_key")
);

-- CreateIndex
CREATE INDEX "schedule_idempotency_keys_schedule_id_idx" ON "schedule_idempotency_keys"("schedule_id");

-- AddForeignKey
ALTER TABLE "schedule_idempotency_keys" ADD CONSTRAINT "schedule_idempotency_keys_schedule_id_fkey" FOREIGN KEY ("schedule_id") REFERENCES "schedules"("id") ON DELETE SET NULL ON UPDATE CASCADE;

