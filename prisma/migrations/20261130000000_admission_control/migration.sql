-- AlterTable
ALTER TABLE "pipelines" ADD COLUMN     "submitter" TEXT NOT NULL DEFAULT 'anonymous';

-- CreateIndex
CREATE INDEX "pipelines_submitter_status_idx" ON "pipelines"("submitter", "status");

