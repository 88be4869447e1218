-- Who paused a schedule (an identity id), null while it is active: a submitter resumes only a
-- pause of its own, an operator's hold needs schedule_any (src/services/schedule.service.ts).
-- Nullable, no default: adding it rewrites nothing.

-- AlterTable
ALTER TABLE "schedules" ADD COLUMN IF NOT EXISTS "paused_by" TEXT;
