
-- DropIndex
DROP INDEX "pipelines_idempotency_key_key";

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "key_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'user',
    "roles" TEXT[],
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by" TEXT,
    "last_used_at" TIMESTAMPTZ(3),
    "rotated_from" UUID,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "action" TEXT NOT NULL,
    "identity_id" TEXT NOT NULL,
    "identity_name" TEXT NOT NULL,
    "identity_kind" TEXT NOT NULL,
    "via" TEXT NOT NULL,
    "roles" TEXT[],
    "request_id" TEXT,
    "source_address" TEXT,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT,
    "pipeline_id" UUID,
    "data" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_id_key" ON "api_keys"("key_id");

-- CreateIndex
CREATE INDEX "api_keys_name_idx" ON "api_keys"("name");

-- CreateIndex
CREATE INDEX "audit_events_created_at_id_idx" ON "audit_events"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_action_id_idx" ON "audit_events"("action", "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_identity_id_id_idx" ON "audit_events"("identity_id", "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "pipelines_submitter_idempotency_key_key" ON "pipelines"("submitter", "idempotency_key");

