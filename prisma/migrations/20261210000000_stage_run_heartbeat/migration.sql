-- The heartbeat of the attempt in flight: its worker stamps it every third of LOCK_DURATION_MS
-- while the attempt runs (src/services/attempt-heartbeat.ts). The reconciler leaves a running
-- stage whose job Redis lost to its worker while the stamp is fresh. Nullable, no default: adding
-- it rewrites nothing, and it is in no index, so the stamps are HOT updates.

-- AlterTable
ALTER TABLE "stages" ADD COLUMN IF NOT EXISTS "run_heartbeat_at" TIMESTAMPTZ(3);
