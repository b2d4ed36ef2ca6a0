-- The webhook trigger of 0008 captured every updated instance row into transition tables, for every
-- UPDATE of `instances` (context checkpoints, heartbeats, leases): a copy of each row, context and all,
-- on the engine's hottest statement, to find the few whose state changed. Now it fires only for rows
-- whose state changed (a row trigger with a WHEN clause costs nothing for the others) and still queues
-- the deliveries in the changing statement's transaction.
DROP TRIGGER "instances_queue_webhooks" ON "orchestration"."instances";
--> statement-breakpoint
DROP FUNCTION "orchestration"."queue_instance_webhooks"();
--> statement-breakpoint
CREATE FUNCTION "orchestration"."queue_instance_webhooks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "orchestration"."webhook_deliveries" (id, subscription_id, domain_id, tenant_id, event_type, instance_id, payload)
  SELECT gen_random_uuid(), s.id, s.domain_id, s.tenant_id, 'instance.' || NEW.state, NEW.id,
         jsonb_build_object(
           'event_type', 'instance.' || NEW.state,
           'instance_id', NEW.id,
           'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object('tenant_id', NEW.tenant_id, 'namespace', NEW.namespace, 'sequence_id', NEW.sequence_id,
                                      'state', NEW.state, 'previous_state', OLD.state))
  FROM "orchestration"."webhook_subscriptions" s
  WHERE s.domain_id = NEW.domain_id AND s.tenant_id = NEW.tenant_id AND s.enabled
    AND (s.event_types = '[]'::jsonb OR s.event_types ? ('instance.' || NEW.state));
  -- The senders sleep until told (LISTEN orchestration_webhooks); one notice per transaction
  -- (Postgres folds identical payloads), sent when the change commits.
  IF FOUND THEN
    PERFORM pg_notify('orchestration_webhooks', '');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "instances_queue_webhooks" AFTER UPDATE OF "state" ON "orchestration"."instances"
  FOR EACH ROW WHEN (OLD."state" IS DISTINCT FROM NEW."state")
  EXECUTE FUNCTION "orchestration"."queue_instance_webhooks"();
