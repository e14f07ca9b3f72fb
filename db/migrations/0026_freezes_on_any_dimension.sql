ALTER TABLE "control_freezes" ADD COLUMN "dimensions" jsonb;--> statement-breakpoint
-- Issue 22: a line is decided against its bucket and against every control budget it falls in (the lines
-- name them, with their rule, pooled periods and what the line counts for there: domain/control-budgets).
-- Control budget rows are locked before bucket rows, each in key order, so reservations never deadlock; the
-- line is held in all of them or in none, and the request all or nothing as before. The reservation records
-- the line's whole combination and the budgets it holds in (with the amounts), so a release gives back
-- exactly there. Lines read on a model older than the entity's control_budgets_version are refused, to be
-- decided again. A freeze may stop other dimensions' values (a project, a department): it covers a line whose
-- whole combination contains every value it names. Otherwise as in 0016.
CREATE OR REPLACE FUNCTION closeloop_reserve_funds(
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
  v_locked jsonb;
  v_inactive jsonb;
  v_rule jsonb;
  v_lock record;
  v_bamount numeric;
  v_bb numeric;
  v_bc numeric;
  v_ok boolean;
  v_line_ok boolean;
  v_budgets jsonb;
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

  -- The lines name the control budgets they fall in as the entity's model stood when they were read. A change
  -- since (it takes this lock exclusive, so it waits for reservations in flight) refuses the decision: it is
  -- made again on the model as it now stands, never held in budgets that no longer exist.
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('control-budgets:' || p_legal_entity, 0));
  IF (SELECT control_budgets_version FROM legal_entities WHERE code = p_legal_entity)
     IS DISTINCT FROM coalesce((p_lines->0->>'budgetsVersion')::int, 0) THEN
    DELETE FROM funds_requests WHERE requester = p_requester AND idempotency_key = p_key;
    RETURN jsonb_build_object('kind', 'model_changed');
  END IF;

  -- A period its close has locked takes no reservation. Shared locks on (entity, period): reservations do
  -- not wait for each other, and the close's lock (lockEntityPeriod, exclusive) waits for those in flight,
  -- so none slips in after it; this check, a later statement, then sees the lock row.
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('period-lock:' || p_legal_entity || ':' || p, 0))
     FROM (SELECT DISTINCT x->>'period' AS p FROM jsonb_array_elements(p_lines) x ORDER BY 1) periods;
  SELECT jsonb_agg(DISTINCT k.period ORDER BY k.period) INTO v_locked FROM entity_period_locks k
   WHERE k.legal_entity = p_legal_entity
     AND k.period IN (SELECT x->>'period' FROM jsonb_array_elements(p_lines) x);
  IF v_locked IS NOT NULL THEN
    DELETE FROM funds_requests WHERE requester = p_requester AND idempotency_key = p_key;
    RETURN jsonb_build_object('kind', 'period_locked', 'periods', v_locked);
  END IF;

  PERFORM pg_advisory_xact_lock_shared(hashtextextended(k, 0))
     FROM (SELECT DISTINCT 'dimension:account:' || (x->>'account') AS k FROM jsonb_array_elements(p_lines) x
           UNION
           SELECT DISTINCT 'dimension:costCenter:' || p_legal_entity || ':' || (x->>'costCenter')
             FROM jsonb_array_elements(p_lines) x
           ORDER BY 1) keys;
  SELECT jsonb_agg(jsonb_build_object('lineNo', v.line_no, 'dimension', v.dimension, 'code', v.code,
                                      'onDate', v.on_date::text) ORDER BY v.line_no, v.dimension)
    INTO v_inactive
    FROM (
      SELECT (x->>'lineNo')::int AS line_no, d.dimension, d.code, p.start_date AS on_date
        FROM jsonb_array_elements(p_lines) x
        JOIN legal_entities e ON e.code = p_legal_entity
        JOIN fiscal_periods p ON p.calendar = e.fiscal_calendar AND p.period = x->>'period'
        CROSS JOIN LATERAL (VALUES ('account', x->>'account'), ('costCenter', x->>'costCenter')) d(dimension, code)
       WHERE (d.dimension = 'account' AND NOT EXISTS (
               SELECT 1 FROM accounts a WHERE a.code = d.code AND a.active
                  AND a.valid_from <= p.start_date AND (a.valid_to IS NULL OR a.valid_to > p.start_date)))
          OR (d.dimension = 'costCenter' AND NOT EXISTS (
               SELECT 1 FROM cost_centers c WHERE c.code = d.code AND c.legal_entity = p_legal_entity AND c.active
                  AND c.valid_from <= p.start_date AND (c.valid_to IS NULL OR c.valid_to > p.start_date)))
    ) v;
  IF v_inactive IS NOT NULL THEN
    DELETE FROM funds_requests WHERE requester = p_requester AND idempotency_key = p_key;
    RETURN jsonb_build_object('kind', 'inactive', 'values', v_inactive);
  END IF;

  -- Control budgets (issue 22) before buckets, in one order for every writer: each budget row a line holds in
  -- exists, then every pooled row the request reads is locked in key, period, currency order (one index
  -- lookup each). Lines in no control budget skip this.
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_lines) x WHERE jsonb_array_length(coalesce(x->'budgets', '[]'::jsonb)) > 0) THEN
    INSERT INTO control_budget_balances (legal_entity, budget_key, code, key_values, period, currency)
    SELECT DISTINCT ON (b->>'key', x->>'period', x->>'currency')
           p_legal_entity, b->>'key', b->>'code', b->'values', x->>'period', x->>'currency'
      FROM jsonb_array_elements(p_lines) x, jsonb_array_elements(coalesce(x->'budgets', '[]'::jsonb)) b
     ORDER BY b->>'key', x->>'period', x->>'currency'
    ON CONFLICT DO NOTHING;
    FOR v_lock IN
      SELECT DISTINCT b->>'key' AS budget_key, p.p AS period, x->>'currency' AS currency
        FROM jsonb_array_elements(p_lines) x,
             jsonb_array_elements(coalesce(x->'budgets', '[]'::jsonb)) b,
             jsonb_array_elements_text(b->'pool') p(p)
       ORDER BY 1, 2, 3
    LOOP
      PERFORM 1 FROM control_budget_balances
        WHERE legal_entity = p_legal_entity AND budget_key = v_lock.budget_key AND period = v_lock.period
          AND currency = v_lock.currency
        FOR UPDATE;
    END LOOP;
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
         AND (f.dimensions IS NULL OR coalesce(l->'dimensions', '{}'::jsonb) @> f.dimensions)
       ORDER BY f.frozen_at LIMIT 1;
      v_taken := v_frozen IS NULL AND (
        l->>'level' <> 'absolute'
        OR v_consumed + v_amount <= floor(v_budget * (10000 + (l->>'toleranceHundredths')::int) / 10000
                                          * (l->>'scale')::int) / (l->>'scale')::int);
      -- Every control budget the line falls in decides too; the line is held only if all of them allow it.
      v_budgets := '[]'::jsonb;
      v_line_ok := true;
      FOR v_rule IN SELECT * FROM jsonb_array_elements(coalesce(l->'budgets', '[]'::jsonb)) LOOP
        -- What the line counts for there: its amount, or more where a grant's indirect cost counts too.
        v_bamount := coalesce((v_rule->>'amount')::numeric, v_amount);
        SELECT coalesce(sum(budget), 0), coalesce(sum(reserved + committed + actual), 0) INTO v_bb, v_bc
          FROM control_budget_balances
         WHERE legal_entity = p_legal_entity AND budget_key = v_rule->>'key' AND currency = l->>'currency'
           AND period IN (SELECT jsonb_array_elements_text(v_rule->'pool'));
        v_ok := v_rule->>'level' <> 'absolute'
          OR v_bc + v_bamount <= floor(v_bb * (10000 + (v_rule->>'toleranceHundredths')::int) / 10000
                                      * (l->>'scale')::int) / (l->>'scale')::int;
        v_line_ok := v_line_ok AND v_ok;
        v_budgets := v_budgets || jsonb_build_array(jsonb_build_object(
          'key', v_rule->>'key', 'code', v_rule->>'code', 'values', v_rule->'values', 'ok', v_ok, 'amount', v_bamount::text, 'budget', v_bb::text, 'consumed', v_bc::text, 'level', v_rule->>'level',
          'toleranceHundredths', (v_rule->>'toleranceHundredths')::int, 'pool', v_rule->'pool'));
        v_warning := v_warning OR (v_frozen IS NULL AND v_taken AND v_rule->>'level' IN ('absolute', 'advisory')
                                   AND v_bb - v_bc - v_bamount < 0);
      END LOOP;
      v_taken := v_taken AND v_line_ok;
      IF v_taken THEN
        UPDATE control_balances SET reserved = reserved + v_amount, updated_at = now()
         WHERE legal_entity = p_legal_entity AND account = l->>'account' AND cost_center = l->>'costCenter'
           AND period = l->>'period' AND currency = l->>'currency';
        FOR v_rule IN SELECT * FROM jsonb_array_elements(coalesce(l->'budgets', '[]'::jsonb)) LOOP
          UPDATE control_budget_balances
             SET reserved = reserved + coalesce((v_rule->>'amount')::numeric, v_amount), updated_at = now()
           WHERE legal_entity = p_legal_entity AND budget_key = v_rule->>'key' AND period = l->>'period'
             AND currency = l->>'currency';
        END LOOP;
        v_warning := v_warning OR (l->>'level' IN ('absolute', 'advisory') AND v_budget - v_consumed - v_amount < 0);
      END IF;
      v_all := v_all AND v_taken;
      v_results := v_results || jsonb_build_array(jsonb_build_object(
        'lineNo', (l->>'lineNo')::int, 'taken', v_taken, 'budget', v_budget::text, 'consumed', v_consumed::text,
        'level', l->>'level', 'toleranceHundredths', (l->>'toleranceHundredths')::int, 'pool', l->'pool',
        'frozen', v_frozen, 'budgets', v_budgets));
    END LOOP;
    -- All or nothing: one refused line undoes every hold of the request (back to the block's start).
    IF NOT v_all THEN RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'closeloop: request rejected'; END IF;
    INSERT INTO funds_reservations (requester, idempotency_key, line_no, legal_entity, account, cost_center, period,
                                    currency, amount, dimensions, holds)
    SELECT p_requester, p_key, (x->>'lineNo')::int, p_legal_entity, x->>'account', x->>'costCenter', x->>'period',
           x->>'currency', (x->>'amount')::numeric, x->'dimensions',
           coalesce((SELECT jsonb_agg(jsonb_build_object('key', b->>'key', 'amount', coalesce(b->>'amount', x->>'amount')))
                       FROM jsonb_array_elements(x->'budgets') b), '[]'::jsonb)
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
-- The planner guesses 100 rows for each set-returning function over the request's lines, so a statement
-- nesting three of them looks like a million rows and is JIT-compiled, which costs milliseconds for a handful
-- of rows. Nothing this function runs is large enough for JIT to pay off.
ALTER FUNCTION closeloop_reserve_funds(text, text, text, text, text, jsonb, text) SET jit = off;
