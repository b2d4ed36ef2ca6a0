-- Outgoing webhooks are queued by the statement that changes instance states, whoever runs it
-- (the engine's claims, checkpoints and hand-backs; PATCH /state, retry, bulk state, signals that
-- wake a waiting instance): one delivery per changed instance and enabled subscription of its
-- (domain, tenant) that wants `instance.<state>` (or every event), inserted set-based from the
-- statement's transition tables, so it commits — or rolls back — with the change itself.
CREATE FUNCTION "orchestration"."queue_instance_webhooks"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most deployments have no subscription (a tiny table): then nothing is joined.
  IF NOT EXISTS (SELECT 1 FROM "orchestration"."webhook_subscriptions" WHERE enabled) THEN
    RETURN NULL;
  END IF;
  INSERT INTO "orchestration"."webhook_deliveries" (id, subscription_id, domain_id, tenant_id, event_type, instance_id, payload)
  SELECT gen_random_uuid(), s.id, s.domain_id, s.tenant_id, 'instance.' || n.state, n.id,
         jsonb_build_object(
           'event_type', 'instance.' || n.state,
           'instance_id', n.id,
           'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object('tenant_id', n.tenant_id, 'namespace', n.namespace, 'sequence_id', n.sequence_id,
                                      'state', n.state, 'previous_state', o.state))
  FROM changed_new n
  JOIN changed_old o ON o.id = n.id AND o.state IS DISTINCT FROM n.state
  JOIN "orchestration"."webhook_subscriptions" s
    ON s.domain_id = n.domain_id AND s.tenant_id = n.tenant_id AND s.enabled
   AND (s.event_types = '[]'::jsonb OR s.event_types ? ('instance.' || n.state));
  -- The senders sleep until told (LISTEN orchestration_webhooks); sent when the change commits.
  IF FOUND THEN
    PERFORM pg_notify('orchestration_webhooks', '');
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "instances_queue_webhooks" AFTER UPDATE ON "orchestration"."instances"
  REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
  FOR EACH STATEMENT EXECUTE FUNCTION "orchestration"."queue_instance_webhooks"();
