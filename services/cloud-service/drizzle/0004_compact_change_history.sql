-- Batch writes record their changes in a compact form that costs the write next to nothing: a
-- collected create stores {"after": <snapshot>} and a collected update {"before": <snapshot>,
-- "after": <snapshot>} (history-sql.ts builds the snapshots), both inside the write's own
-- statement. Reads turn that form into the changed keys with the rules of history_diff, sorted by
-- key like the diffs the service computes; rows written earlier (and single writes) hold the
-- array of changed keys already and read as they are.
CREATE FUNCTION "cloud_service"."change_entries"(diff jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN jsonb_typeof(diff) = 'object' THEN (
    SELECT coalesce(jsonb_agg(e ORDER BY e ->> 'key' COLLATE "C"), '[]'::jsonb)
    FROM jsonb_array_elements("cloud_service"."history_diff"(diff -> 'before', diff -> 'after')) e
  ) ELSE diff END
$$;
