CREATE TABLE "cloud_service"."change_history" (
	"change_id" text PRIMARY KEY DEFAULT ('ch-' || gen_random_uuid()::text) NOT NULL,
	"domain_id" text NOT NULL,
	"workspace_id" text DEFAULT '' NOT NULL,
	"cloud_service_id" text NOT NULL,
	"action" text NOT NULL,
	"diff" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"diff_count" integer DEFAULT 0 NOT NULL,
	"updated_by" text NOT NULL,
	"author_id" text DEFAULT '' NOT NULL,
	"user_id" text DEFAULT '' NOT NULL,
	"collector_id" text DEFAULT '' NOT NULL,
	"job_id" text DEFAULT '' NOT NULL,
	"job_task_id" text DEFAULT '' NOT NULL,
	"collector_rule_id" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "change_history_resource_idx" ON "cloud_service"."change_history" USING btree ("domain_id","cloud_service_id","created_at");--> statement-breakpoint
CREATE INDEX "change_history_domain_created_idx" ON "cloud_service"."change_history" USING btree ("domain_id","created_at");--> statement-breakpoint
-- The changed keys between two snapshots of a resource (change-history/history-sql.ts builds them):
-- top-level fields, and one level into data, tags and reference as dotted keys; "" and null count as
-- absent; [] when nothing changed. Called inside the write statements, so a batch's history costs no
-- round trip; plpgsql with early exits, since most collected rows change nothing.
CREATE FUNCTION "cloud_service"."history_diff"(o jsonb, n jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  items jsonb[] := '{}';
  k text;
  sub text;
  b jsonb;
  a jsonb;
BEGIN
  IF o IS NOT DISTINCT FROM n THEN RETURN '[]'::jsonb; END IF;
  o := coalesce(o, '{}'::jsonb);
  n := coalesce(n, '{}'::jsonb);
  -- o || n holds every key of either.
  FOR k IN SELECT jsonb_object_keys(o || n) LOOP
    b := o -> k;
    a := n -> k;
    CONTINUE WHEN b IS NOT DISTINCT FROM a;
    IF k IN ('data', 'tags', 'reference') THEN
      IF jsonb_typeof(b) IS DISTINCT FROM 'object' THEN b := '{}'::jsonb; END IF;
      IF jsonb_typeof(a) IS DISTINCT FROM 'object' THEN a := '{}'::jsonb; END IF;
      FOR sub IN SELECT jsonb_object_keys(b || a) LOOP
        IF nullif(nullif(b -> sub, 'null'::jsonb), '""'::jsonb) IS DISTINCT FROM nullif(nullif(a -> sub, 'null'::jsonb), '""'::jsonb) THEN
          items := array_append(items, jsonb_build_object('key', k || '.' || sub,
            'before', nullif(nullif(b -> sub, 'null'::jsonb), '""'::jsonb), 'after', nullif(nullif(a -> sub, 'null'::jsonb), '""'::jsonb)));
        END IF;
      END LOOP;
    ELSE
      b := nullif(nullif(b, 'null'::jsonb), '""'::jsonb);
      a := nullif(nullif(a, 'null'::jsonb), '""'::jsonb);
      IF b IS DISTINCT FROM a THEN
        items := array_append(items, jsonb_build_object('key', k, 'before', b, 'after', a));
      END IF;
    END IF;
  END LOOP;
  RETURN to_jsonb(items);
END
$$;
