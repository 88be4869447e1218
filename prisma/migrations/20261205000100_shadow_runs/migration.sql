-- Shadow runs (docs/feature-flags.md#shadow-runs): an agent's candidate version run beside the
-- incumbent on one attempt, recorded after the incumbent's commit. One row per incumbent stage
-- run at most (unique run_id), and no foreign keys, like gate_results. The canary report reads
-- one agent type's rows, newest first. (No semicolons in these comments: the schema engine
-- splits the script on them.)

-- CreateTable
CREATE TABLE "shadow_runs" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "stage_id" UUID NOT NULL,
    "pipeline_id" UUID NOT NULL,
    "stage_key" TEXT NOT NULL,
    "agent_type" TEXT NOT NULL,
    "incumbent_version" TEXT NOT NULL,
    "candidate_version" TEXT NOT NULL,
    "incumbent_status" TEXT NOT NULL,
    "candidate_status" TEXT NOT NULL,
    "incumbent_gates" JSONB NOT NULL DEFAULT '[]',
    "candidate_gates" JSONB NOT NULL DEFAULT '[]',
    "candidate_output" JSONB,
    "candidate_error" JSONB,
    "candidate_metrics" JSONB,
    "agreed" BOOLEAN NOT NULL,
    "disagreements" JSONB NOT NULL DEFAULT '[]',
    "outputs_equal" BOOLEAN NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "shadow_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "shadow_runs_run_id_key" ON "shadow_runs"("run_id");

-- CreateIndex
CREATE INDEX "shadow_runs_agent_type_finished_at_idx" ON "shadow_runs"("agent_type", "finished_at" DESC);
