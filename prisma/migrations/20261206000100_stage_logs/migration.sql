-- Stage logs (docs/workspaces.md#stage-logs): what an agent wrote through its workspace, in
-- chunks a worker flushes about every second or 64 KiB and at the end of the attempt. Keyed by
-- stage, attempt, run (claim) and chunk number, which is also the order the logs endpoint reads
-- them in pages. Kept in Postgres, not on a worker's disk, since workers run on many machines.
-- (No semicolons in these comments: the schema engine splits the script on them.)
-- CreateTable
CREATE TABLE "stage_logs" (
    "stage_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "seq" INTEGER NOT NULL,
    "bytes" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stage_logs_pkey" PRIMARY KEY ("stage_id","attempt","run_id","seq")
);

-- AddForeignKey
ALTER TABLE "stage_logs" ADD CONSTRAINT "stage_logs_stage_id_fkey" FOREIGN KEY ("stage_id") REFERENCES "stages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

