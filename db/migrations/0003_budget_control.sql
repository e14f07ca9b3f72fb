CREATE TABLE "control_freezes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text,
	"cost_center" text,
	"reason" text NOT NULL,
	"frozen_by" text NOT NULL,
	"frozen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"unfrozen_by" text,
	"unfrozen_at" timestamp with time zone,
	"unfreeze_reason" text
);
--> statement-breakpoint
CREATE TABLE "control_models" (
	"legal_entity" text PRIMARY KEY NOT NULL,
	"period_basis" text DEFAULT 'period' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "control_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text,
	"cost_center" text,
	"level" text NOT NULL,
	"tolerance_percent" numeric(5, 2) DEFAULT '0' NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	CONSTRAINT "control_rules_scope" UNIQUE NULLS NOT DISTINCT("legal_entity","account","cost_center","valid_from")
);
--> statement-breakpoint
CREATE TABLE "funds_requests" (
	"requester" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"legal_entity" text NOT NULL,
	"outcome" text NOT NULL,
	"status" text NOT NULL,
	"answer" jsonb NOT NULL,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "funds_requests_requester_idempotency_key_pk" PRIMARY KEY("requester","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "funds_reservations" (
	"requester" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"line_no" integer NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"currency" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"status" text DEFAULT 'held' NOT NULL,
	CONSTRAINT "funds_reservations_requester_idempotency_key_line_no_pk" PRIMARY KEY("requester","idempotency_key","line_no")
);
--> statement-breakpoint
ALTER TABLE "control_freezes" ADD CONSTRAINT "control_freezes_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_models" ADD CONSTRAINT "control_models_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_rules" ADD CONSTRAINT "control_rules_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "funds_requests" ADD CONSTRAINT "funds_requests_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "control_freezes_in_force" ON "control_freezes" USING btree ("legal_entity") WHERE "control_freezes"."unfrozen_at" is null;--> statement-breakpoint
-- The synchronous reservation in one round trip (see db/queries/budget-control.ts, which calls it): the
-- idempotency claim, the funds check and hold of every line, and the decision record commit together.
-- p_lines come in lock order (bucket, then period), each with its rule and pooled periods:
-- {lineNo, account, costCenter, period, currency, amount, level, toleranceHundredths, scale, pool[]}.
-- p_ttl: how long the funds stay held unless consumed or released (a PostgreSQL interval such as '30 days').
CREATE FUNCTION closeloop_reserve_funds(
  p_requester text, p_key text, p_hash text, p_legal_entity text, p_correlation text, p_lines jsonb,
  p_ttl text DEFAULT NULL
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_claimed int;
  v_earlier record;
  l jsonb;
  v_amount numeric;
  v_budget numeric;
  v_consumed numeric;
  v_frozen jsonb;
  v_taken boolean;
  v_all boolean := true;
  v_warning boolean := false;
  v_results jsonb := '[]'::jsonb;
  v_record jsonb;
BEGIN
  INSERT INTO funds_requests (requester, idempotency_key, request_hash, legal_entity, outcome, status, answer, correlation_id)
  VALUES (p_requester, p_key, p_hash, p_legal_entity, 'approved', 'reserved', '{}'::jsonb, p_correlation)
  ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS v_claimed = ROW_COUNT;
  IF v_claimed = 0 THEN
    -- A repeat (a concurrent one waited above for the first to commit): the first decision, or a refusal.
    SELECT request_hash, answer INTO v_earlier FROM funds_requests
     WHERE requester = p_requester AND idempotency_key = p_key;
    IF v_earlier.request_hash <> p_hash THEN RETURN jsonb_build_object('kind', 'key_reused'); END IF;
    RETURN jsonb_build_object('kind', 'replayed', 'record', v_earlier.answer);
  END IF;

  BEGIN
    FOR l IN SELECT * FROM jsonb_array_elements(p_lines) LOOP
      v_amount := (l->>'amount')::numeric;
      INSERT INTO control_balances (legal_entity, account, cost_center, period, currency)
      VALUES (p_legal_entity, l->>'account', l->>'costCenter', l->>'period', l->>'currency')
      ON CONFLICT DO NOTHING;
      -- Lock the pooled balances in period order, then read them: nobody moves them until this commits.
      PERFORM 1 FROM control_balances
        WHERE legal_entity = p_legal_entity AND account = l->>'account' AND cost_center = l->>'costCenter'
          AND currency = l->>'currency' AND period IN (SELECT jsonb_array_elements_text(l->'pool'))
        ORDER BY period FOR UPDATE;
      SELECT coalesce(sum(budget), 0), coalesce(sum(reserved + committed + actual), 0) INTO v_budget, v_consumed
        FROM control_balances
       WHERE legal_entity = p_legal_entity AND account = l->>'account' AND cost_center = l->>'costCenter'
         AND currency = l->>'currency' AND period IN (SELECT jsonb_array_elements_text(l->'pool'));
      SELECT to_jsonb(f) INTO v_frozen FROM control_freezes f
       WHERE f.legal_entity = p_legal_entity AND f.unfrozen_at IS NULL
         AND (f.account IS NULL OR f.account = l->>'account')
         AND (f.cost_center IS NULL OR f.cost_center = l->>'costCenter')
       ORDER BY f.frozen_at LIMIT 1;
      v_taken := v_frozen IS NULL AND (
        l->>'level' <> 'absolute'
        OR v_consumed + v_amount <= floor(v_budget * (10000 + (l->>'toleranceHundredths')::int) / 10000
                                          * (l->>'scale')::int) / (l->>'scale')::int);
      IF v_taken THEN
        UPDATE control_balances SET reserved = reserved + v_amount, updated_at = now()
         WHERE legal_entity = p_legal_entity AND account = l->>'account' AND cost_center = l->>'costCenter'
           AND period = l->>'period' AND currency = l->>'currency';
        v_warning := v_warning OR (l->>'level' IN ('absolute', 'advisory') AND v_budget - v_consumed - v_amount < 0);
      END IF;
      v_all := v_all AND v_taken;
      v_results := v_results || jsonb_build_array(jsonb_build_object(
        'lineNo', (l->>'lineNo')::int, 'taken', v_taken, 'budget', v_budget::text, 'consumed', v_consumed::text,
        'level', l->>'level', 'toleranceHundredths', (l->>'toleranceHundredths')::int, 'pool', l->'pool',
        'frozen', v_frozen));
    END LOOP;
    -- All or nothing: one refused line undoes every hold of the request (back to the block's start).
    IF NOT v_all THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'closeloop: request rejected'; END IF;
    INSERT INTO funds_reservations (requester, idempotency_key, line_no, legal_entity, account, cost_center, period, currency, amount)
    SELECT p_requester, p_key, (x->>'lineNo')::int, p_legal_entity, x->>'account', x->>'costCenter', x->>'period',
           x->>'currency', (x->>'amount')::numeric
      FROM jsonb_array_elements(p_lines) x;
  EXCEPTION WHEN SQLSTATE 'P0001' THEN
    NULL;
  END;

  v_record := jsonb_build_object('decidedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                 'reserved', v_all, 'lines', v_results);
  UPDATE funds_requests
     SET outcome = CASE WHEN NOT v_all THEN 'rejected' WHEN v_warning THEN 'warning' ELSE 'approved' END,
         status = CASE WHEN v_all THEN 'reserved' ELSE 'rejected' END,
         answer = v_record,
         expires_at = CASE WHEN v_all AND p_ttl IS NOT NULL THEN now() + p_ttl::interval END
   WHERE requester = p_requester AND idempotency_key = p_key;
  RETURN jsonb_build_object('kind', 'decided', 'record', v_record);
END;
$$;
--> statement-breakpoint
-- Many reservations in one transaction, decided one by one in arrival order: one commit for all of them.
-- A request that fails unexpectedly (a deadlock with another batch, say) is answered as an error on its own;
-- the caller decides it again alone. The others are not affected.
CREATE FUNCTION closeloop_reserve_funds_batch(p_requests jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  v_result jsonb;
  v_results jsonb := '[]'::jsonb;
BEGIN
  FOR r IN SELECT * FROM jsonb_array_elements(p_requests) LOOP
    BEGIN
      v_result := closeloop_reserve_funds(r->>'requester', r->>'key', r->>'hash', r->>'legalEntity',
                                          r->>'correlationId', r->'lines', r->>'ttl');
    EXCEPTION WHEN OTHERS THEN
      v_result := jsonb_build_object('kind', 'error', 'sqlstate', SQLSTATE, 'message', SQLERRM);
    END;
    v_results := v_results || jsonb_build_array(v_result);
  END LOOP;
  RETURN v_results;
END;
$$;
