-- Contract versions (docs/agents.md, "Contracts and versions"), generated with prisma migrate diff.
-- contract_version: the version the input of a stage was written under, recorded at submission.
-- Rows written before this migration get 1, which is true: every agent spoke contract v1 until
-- versions existed. output_contract_version: the version its output was written under, set when
-- the stage succeeds. NULL (no output yet, or an older row) reads as 1.

-- AlterTable
ALTER TABLE "stages" ADD COLUMN     "contract_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "output_contract_version" INTEGER;
