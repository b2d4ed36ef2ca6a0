-- Change ids were 'ch-' and a random UUID, so every history row a batch wrote landed on a random page
-- of the primary key's btree. Now 'ch-', the microsecond clock in 14 hex digits and 32 random bits:
-- new rows append at the index's right edge (bench/history-overhead.ts), ids sort by time, and one
-- id still tells nothing about its neighbours'. Existing ids stay as they are.
ALTER TABLE "cloud_service"."change_history" ALTER COLUMN "change_id" SET DEFAULT ('ch-' || lpad(to_hex((extract(epoch from clock_timestamp()) * 1000000)::bigint), 14, '0') || lpad(to_hex((random() * 4294967295)::bigint), 8, '0'));
