-- Room on each page of "stages" for the updates of a stage's life (claim, finish, release), so
-- they can be HOT (heap-only: no new entry in any of the table's indexes). Packed full, a bench run
-- of 22,220 stages made 31% of its 46,455 stage updates HOT, with fillfactor 50 75%
-- (docs/performance.md, "Stage rows and HOT updates").
-- Pages written before this migration stay packed: new stages go to pages with room.
-- Prisma's schema does not model storage parameters, so this lives here only.
ALTER TABLE "stages" SET (fillfactor = 50);
