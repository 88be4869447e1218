-- Agent versions and A/B variants (docs/feature-flags.md): which version of its agent, and which
-- variant of the agent's settings flag, each attempt ran with. Nullable on purpose: rows written
-- before this migration did not record them (NULL = unknown), and `variant` is NULL when the
-- attempt fell in no variant. No default, so a writer that forgets them shows as unknown rather
-- than as a made-up version.

-- The attempt in flight (and, once it ends, the latest one): set by the claim beside
-- run_worker_id, copied into its stage_runs row by the statement that ends it.
ALTER TABLE "stages" ADD COLUMN "run_agent_version" TEXT;
ALTER TABLE "stages" ADD COLUMN "run_variant" TEXT;

ALTER TABLE "stage_runs" ADD COLUMN "agent_version" TEXT;
ALTER TABLE "stage_runs" ADD COLUMN "variant" TEXT;
