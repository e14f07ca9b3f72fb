-- Issue 23: a batch of reservations is decided with a fixed number of statements, whatever its size, instead
-- of one function call (a dozen statements and two subtransactions) per request. In order:
-- 1. every key is claimed in one INSERT, in key order (two batches never wait on each other's claims in
--    opposite orders); a key claimed before is a repeat (its record, or key_reused), a key that comes twice in
--    the batch is decided once and the later copy answers as a repeat of the first;
-- 2. the shared advisory locks (entity model, close's period lock, dimension closures) are taken in one
--    statement each, in key order, and the model version, locked periods and inactive values are read for all
--    requests at once: a request refused there is unclaimed, as before;
-- 3. the balance rows every remaining line reads are created if missing and locked in one statement each
--    (control budgets, then buckets; each in key order, the order every reservation takes), and read;
-- 4. the requests are decided one after another in arrival order, in memory, on the figures as the earlier
--    requests of the batch left them: each line against its pooled bucket and every control budget it falls
--    in, all lines of a request or none (a refused request's tentative holds are taken back before the next);
-- 5. the balances move by their summed holds, the reservations are inserted and the decision records
--    written, one statement each.
-- The records are the same as closeloop_reserve_funds wrote (0026), so answers and replays render as before.
CREATE OR REPLACE FUNCTION closeloop_reserve_funds_batch(p_requests jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  n int := jsonb_array_length(p_requests);
  v_out jsonb[] := array_fill(NULL::jsonb, ARRAY[greatest(n, 1)]);
  v_first int[];
  v_hash text[] := array_fill(NULL::text, ARRAY[greatest(n, 1)]);
  v_claimed int[] := '{}';
  -- Each claimed request's row, by its physical address: later statements reach it without a join the planner
  -- could turn into a scan of every request ever made.
  v_claim_tid tid[] := array_fill(NULL::tid, ARRAY[greatest(n, 1)]);
  v_pending int[];
  v_i int;
  v_row record;
  -- The locked rows, numbered in lock order, with their figures as the batch moves them.
  v_bmap jsonb;
  b_tid tid[]; b_budget numeric[]; b_consumed numeric[]; b_start numeric[];
  v_cmap jsonb;
  c_tid tid[]; c_budget numeric[]; c_consumed numeric[]; c_start numeric[];
  v_plan jsonb;
  v_req jsonb;
  l jsonb;
  v_rule jsonb;
  k int;
  v_amount numeric;
  v_budget numeric;
  v_consumed numeric;
  v_frozen jsonb;
  v_taken boolean;
  v_all boolean;
  v_warning boolean;
  v_lines jsonb;
  v_bamount numeric;
  v_bb numeric;
  v_bc numeric;
  v_ok boolean;
  v_line_ok boolean;
  v_budgets jsonb;
  v_undo_b int[];
  v_undo_b_amt numeric[];
  v_undo_c int[];
  v_undo_c_amt numeric[];
  v_decided int[] := '{}';
  v_reserved int[] := '{}';
  v_outcomes text[] := '{}';
  v_records jsonb[] := '{}';
  v_decided_at text := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
BEGIN
  IF n = 0 THEN RETURN '[]'::jsonb; END IF;

  -- 1. Claims. v_first[i]: the first request of the batch with i's key.
  SELECT array_agg(f ORDER BY i) INTO v_first FROM (
    SELECT ord::int AS i, (min(ord) OVER (PARTITION BY r->>'requester', r->>'key'))::int AS f
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY t(r, ord)) x;
  FOR v_row IN
    WITH claimed AS (
      INSERT INTO funds_requests (requester, idempotency_key, request_hash, legal_entity, outcome, status, answer, correlation_id)
      SELECT r->>'requester', r->>'key', r->>'hash', r->>'legalEntity', 'approved', 'reserved', '{}'::jsonb, r->>'correlationId'
        FROM jsonb_array_elements(p_requests) WITH ORDINALITY t(r, ord)
       WHERE v_first[ord::int] = ord
       ORDER BY r->>'requester', r->>'key'
      ON CONFLICT DO NOTHING
      RETURNING requester, idempotency_key, ctid
    )
    SELECT t.ord::int AS i, c.ctid
      FROM claimed c
      JOIN jsonb_array_elements(p_requests) WITH ORDINALITY t(r, ord)
        ON t.r->>'requester' = c.requester AND t.r->>'key' = c.idempotency_key AND v_first[t.ord::int] = t.ord
     ORDER BY 1
  LOOP
    v_claimed := v_claimed || v_row.i;
    v_claim_tid[v_row.i] := v_row.ctid;
    v_hash[v_row.i] := p_requests->(v_row.i - 1)->>'hash';
  END LOOP;
  -- A key claimed before (a concurrent claim waited above for its transaction): its decision, or a refusal.
  FOR v_row IN
    SELECT t.ord::int AS i, f.request_hash, f.answer
      FROM jsonb_array_elements(p_requests) WITH ORDINALITY t(r, ord)
      -- One primary-key lookup per request (LIMIT keeps the planner from joining against the whole table).
      CROSS JOIN LATERAL (SELECT request_hash, answer FROM funds_requests f
                           WHERE f.requester = t.r->>'requester' AND f.idempotency_key = t.r->>'key' LIMIT 1) f
     WHERE v_first[t.ord::int] = t.ord AND NOT t.ord = ANY(v_claimed)
  LOOP
    v_hash[v_row.i] := v_row.request_hash;
    v_out[v_row.i] := CASE WHEN v_row.request_hash <> p_requests->(v_row.i - 1)->>'hash'
                           THEN jsonb_build_object('kind', 'key_reused')
                           ELSE jsonb_build_object('kind', 'replayed', 'record', v_row.answer) END;
  END LOOP;

  -- 2. The model each request's lines were read on must still be the entity's (a change takes this lock
  -- exclusive, so it waits for reservations in flight): otherwise it is decided again on the model as it stands.
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('control-budgets:' || e, 0))
     FROM (SELECT DISTINCT p_requests->(i - 1)->>'legalEntity' AS e FROM unnest(v_claimed) i ORDER BY 1) x;
  FOR v_i IN
    SELECT i FROM unnest(v_claimed) i
      LEFT JOIN legal_entities e ON e.code = p_requests->(i - 1)->>'legalEntity'
     WHERE e.control_budgets_version IS DISTINCT FROM
           coalesce((p_requests->(i - 1)->'lines'->0->>'budgetsVersion')::int, 0)
  LOOP
    v_out[v_i] := jsonb_build_object('kind', 'model_changed');
  END LOOP;

  -- A period its close has locked takes no reservation. Shared locks on (entity, period): reservations do not
  -- wait for each other, and the close's lock (lockEntityPeriod, exclusive) waits for those in flight, so none
  -- slips in after it; the check, a later statement, then sees the lock row.
  v_pending := ARRAY(SELECT i FROM unnest(v_claimed) i WHERE v_out[i] IS NULL ORDER BY i);
  PERFORM pg_advisory_xact_lock_shared(hashtextextended('period-lock:' || e || ':' || p, 0))
     FROM (SELECT DISTINCT p_requests->(i - 1)->>'legalEntity' AS e, x->>'period' AS p
             FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x
            ORDER BY 1, 2) periods;
  FOR v_row IN
    SELECT i, jsonb_agg(DISTINCT el.period ORDER BY el.period) AS periods
      FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x, entity_period_locks el
     WHERE el.legal_entity = p_requests->(i - 1)->>'legalEntity' AND el.period = x->>'period'
     GROUP BY i
  LOOP
    v_out[v_row.i] := jsonb_build_object('kind', 'period_locked', 'periods', v_row.periods);
  END LOOP;

  -- An account or cost center closed while the request was on its way (ordered with the closure by these locks).
  v_pending := ARRAY(SELECT i FROM unnest(v_pending) i WHERE v_out[i] IS NULL ORDER BY i);
  PERFORM pg_advisory_xact_lock_shared(hashtextextended(lock_key, 0))
     FROM (SELECT DISTINCT 'dimension:account:' || (x->>'account') AS lock_key
             FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x
           UNION
           SELECT DISTINCT 'dimension:costCenter:' || (p_requests->(i - 1)->>'legalEntity') || ':' || (x->>'costCenter')
             FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x
           ORDER BY 1) keys;
  FOR v_row IN
    SELECT v.i, jsonb_agg(jsonb_build_object('lineNo', v.line_no, 'dimension', v.dimension, 'code', v.code,
                                             'onDate', v.on_date::text) ORDER BY v.line_no, v.dimension) AS vals
      FROM (
        SELECT i, (x->>'lineNo')::int AS line_no, d.dimension, d.code, p.start_date AS on_date
          FROM unnest(v_pending) i
          CROSS JOIN LATERAL jsonb_array_elements(p_requests->(i - 1)->'lines') x
          JOIN legal_entities e ON e.code = p_requests->(i - 1)->>'legalEntity'
          JOIN fiscal_periods p ON p.calendar = e.fiscal_calendar AND p.period = x->>'period'
          CROSS JOIN LATERAL (VALUES ('account', x->>'account'), ('costCenter', x->>'costCenter')) d(dimension, code)
         WHERE (d.dimension = 'account' AND NOT EXISTS (
                 SELECT 1 FROM accounts a WHERE a.code = d.code AND a.active
                    AND a.valid_from <= p.start_date AND (a.valid_to IS NULL OR a.valid_to > p.start_date)))
            OR (d.dimension = 'costCenter' AND NOT EXISTS (
                 SELECT 1 FROM cost_centers c WHERE c.code = d.code AND c.legal_entity = e.code AND c.active
                    AND c.valid_from <= p.start_date AND (c.valid_to IS NULL OR c.valid_to > p.start_date)))
      ) v
     GROUP BY v.i
  LOOP
    v_out[v_row.i] := jsonb_build_object('kind', 'inactive', 'values', v_row.vals);
  END LOOP;
  v_pending := ARRAY(SELECT i FROM unnest(v_pending) i WHERE v_out[i] IS NULL ORDER BY i);

  IF cardinality(v_pending) > 0 THEN
    -- 3. The rows each line holds in exist; every row a line reads is locked, control budgets before buckets,
    -- each in key order (the order of every reservation, so they never deadlock), and read.
    INSERT INTO control_budget_balances (legal_entity, budget_key, code, key_values, period, currency)
    SELECT DISTINCT ON (1, 2, 5, 6)
           p_requests->(i - 1)->>'legalEntity', b->>'key', b->>'code', b->'values', x->>'period', x->>'currency'
      FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x,
           jsonb_array_elements(coalesce(x->'budgets', '[]'::jsonb)) b
     ORDER BY 1, 2, 5, 6
    ON CONFLICT DO NOTHING;
    -- The keys are listed and sorted first, then each row is locked by its own index lookup in that order
    -- (the planner, which cannot see how few keys a batch names, would otherwise scan the table).
    SELECT coalesce(jsonb_object_agg(concat_ws(chr(31), k.le, k.budget_key, k.currency, k.period), k.n), '{}'::jsonb),
           coalesce(array_agg(cb.ctid ORDER BY k.n), '{}'), coalesce(array_agg(coalesce(cb.budget, 0) ORDER BY k.n), '{}'),
           coalesce(array_agg(coalesce(cb.consumed, 0) ORDER BY k.n), '{}')
      INTO v_cmap, c_tid, c_budget, c_consumed
      FROM (SELECT le, budget_key, currency, period, row_number() OVER (ORDER BY le, budget_key, period, currency) AS n
              FROM (SELECT DISTINCT p_requests->(i - 1)->>'legalEntity' AS le, b->>'key' AS budget_key, x->>'currency' AS currency, p AS period
                      FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x,
                           jsonb_array_elements(coalesce(x->'budgets', '[]'::jsonb)) b,
                           jsonb_array_elements_text(b->'pool') p) keys
             ORDER BY n) k
      LEFT JOIN LATERAL (
        SELECT c.ctid, c.budget, c.reserved + c.committed + c.actual AS consumed FROM control_budget_balances c
         WHERE c.legal_entity = k.le AND c.budget_key = k.budget_key AND c.period = k.period AND c.currency = k.currency
           FOR UPDATE) cb ON true;

    INSERT INTO control_balances (legal_entity, account, cost_center, period, currency)
    SELECT DISTINCT p_requests->(i - 1)->>'legalEntity', x->>'account', x->>'costCenter', x->>'period', x->>'currency'
      FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x
     ORDER BY 1, 2, 3, 5, 4
    ON CONFLICT DO NOTHING;
    SELECT coalesce(jsonb_object_agg(concat_ws(chr(31), k.le, k.account, k.cost_center, k.currency, k.period), k.n), '{}'::jsonb),
           coalesce(array_agg(cb.ctid ORDER BY k.n), '{}'), coalesce(array_agg(coalesce(cb.budget, 0) ORDER BY k.n), '{}'),
           coalesce(array_agg(coalesce(cb.consumed, 0) ORDER BY k.n), '{}')
      INTO v_bmap, b_tid, b_budget, b_consumed
      FROM (SELECT le, account, cost_center, currency, period,
                   row_number() OVER (ORDER BY le, account, cost_center, currency, period) AS n
              FROM (SELECT DISTINCT p_requests->(i - 1)->>'legalEntity' AS le, x->>'account' AS account,
                           x->>'costCenter' AS cost_center, x->>'currency' AS currency, p AS period
                      FROM unnest(v_pending) i, jsonb_array_elements(p_requests->(i - 1)->'lines') x,
                           jsonb_array_elements_text(x->'pool') p) keys
             ORDER BY n) k
      LEFT JOIN LATERAL (
        SELECT c.ctid, c.budget, c.reserved + c.committed + c.actual AS consumed FROM control_balances c
         WHERE c.legal_entity = k.le AND c.account = k.account AND c.cost_center = k.cost_center
           AND c.currency = k.currency AND c.period = k.period
           FOR UPDATE) cb ON true;
    b_start := b_consumed;
    c_start := c_consumed;

    -- Each line with the rows it reads (by number) and the freeze in force over it, if any: a freeze covers a
    -- line whose whole combination contains every value it names.
    SELECT jsonb_agg(jsonb_build_object('i', q.i, 'lines', q.lines) ORDER BY q.i) INTO v_plan
      FROM (
        SELECT i, jsonb_agg(jsonb_build_object(
                 'line', x,
                 'own', (v_bmap->>concat_ws(chr(31), le, x->>'account', x->>'costCenter', x->>'currency', x->>'period'))::int,
                 'pooled', (SELECT coalesce(array_agg((v_bmap->>concat_ws(chr(31), le, x->>'account', x->>'costCenter', x->>'currency', p))::int), '{}')::text
                              FROM jsonb_array_elements_text(x->'pool') p
                             WHERE v_bmap ? concat_ws(chr(31), le, x->>'account', x->>'costCenter', x->>'currency', p)),
                 'frozen', (SELECT to_jsonb(f) FROM control_freezes f
                             WHERE f.legal_entity = le AND f.unfrozen_at IS NULL
                               AND (f.account IS NULL OR f.account = x->>'account')
                               AND (f.cost_center IS NULL OR f.cost_center = x->>'costCenter')
                               AND (f.dimensions IS NULL OR coalesce(x->'dimensions', '{}'::jsonb) @> f.dimensions)
                             ORDER BY f.frozen_at LIMIT 1),
                 'budgets', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                            'rule', b,
                            'own', (v_cmap->>concat_ws(chr(31), le, b->>'key', x->>'currency', x->>'period'))::int,
                            'pooled', (SELECT coalesce(array_agg((v_cmap->>concat_ws(chr(31), le, b->>'key', x->>'currency', p))::int), '{}')::text
                                         FROM jsonb_array_elements_text(b->'pool') p
                                        WHERE v_cmap ? concat_ws(chr(31), le, b->>'key', x->>'currency', p))) ORDER BY bo)
                     FROM jsonb_array_elements(x->'budgets') WITH ORDINALITY bb(b, bo)), '[]'::jsonb)
               ) ORDER BY lo) AS lines
          FROM (SELECT i, p_requests->(i - 1)->>'legalEntity' AS le, x, lo
                  FROM unnest(v_pending) i,
                       jsonb_array_elements(p_requests->(i - 1)->'lines') WITH ORDINALITY y(x, lo)) pl
         GROUP BY i
      ) q;

    -- 4. In arrival order, each request on the figures the earlier ones left.
    FOR v_req IN SELECT value FROM jsonb_array_elements(v_plan) LOOP
      v_i := (v_req->>'i')::int;
      v_all := true;
      v_warning := false;
      v_lines := '[]'::jsonb;
      v_undo_b := '{}'; v_undo_b_amt := '{}'; v_undo_c := '{}'; v_undo_c_amt := '{}';
      FOR l IN SELECT value FROM jsonb_array_elements(v_req->'lines') LOOP
        v_amount := (l->'line'->>'amount')::numeric;
        v_budget := 0;
        v_consumed := 0;
        FOREACH k IN ARRAY (l->>'pooled')::int[] LOOP
          v_budget := v_budget + b_budget[k];
          v_consumed := v_consumed + b_consumed[k];
        END LOOP;
        v_frozen := CASE WHEN jsonb_typeof(l->'frozen') = 'object' THEN l->'frozen' END;
        v_taken := v_frozen IS NULL AND (
          l->'line'->>'level' <> 'absolute'
          OR v_consumed + v_amount <= floor(v_budget * (10000 + (l->'line'->>'toleranceHundredths')::int) / 10000
                                            * (l->'line'->>'scale')::int) / (l->'line'->>'scale')::int);
        -- Every control budget the line falls in decides too; the line is held only if all of them allow it.
        v_budgets := '[]'::jsonb;
        v_line_ok := true;
        FOR v_rule IN SELECT value FROM jsonb_array_elements(l->'budgets') LOOP
          -- What the line counts for there: its amount, or more where a grant's indirect cost counts too.
          v_bamount := coalesce((v_rule->'rule'->>'amount')::numeric, v_amount);
          v_bb := 0;
          v_bc := 0;
          FOREACH k IN ARRAY (v_rule->>'pooled')::int[] LOOP
            v_bb := v_bb + c_budget[k];
            v_bc := v_bc + c_consumed[k];
          END LOOP;
          v_ok := v_rule->'rule'->>'level' <> 'absolute'
            OR v_bc + v_bamount <= floor(v_bb * (10000 + (v_rule->'rule'->>'toleranceHundredths')::int) / 10000
                                        * (l->'line'->>'scale')::int) / (l->'line'->>'scale')::int;
          v_line_ok := v_line_ok AND v_ok;
          v_budgets := v_budgets || jsonb_build_array(jsonb_build_object(
            'key', v_rule->'rule'->>'key', 'code', v_rule->'rule'->>'code', 'values', v_rule->'rule'->'values',
            'ok', v_ok, 'amount', v_bamount::text, 'budget', v_bb::text, 'consumed', v_bc::text,
            'level', v_rule->'rule'->>'level',
            'toleranceHundredths', (v_rule->'rule'->>'toleranceHundredths')::int, 'pool', v_rule->'rule'->'pool'));
          v_warning := v_warning OR (v_frozen IS NULL AND v_taken AND v_rule->'rule'->>'level' IN ('absolute', 'advisory')
                                     AND v_bb - v_bc - v_bamount < 0);
        END LOOP;
        v_taken := v_taken AND v_line_ok;
        IF v_taken THEN
          -- Held at once, so a later line of the request (or of the batch) on the same rows sees it.
          k := (l->>'own')::int;
          b_consumed[k] := b_consumed[k] + v_amount;
          v_undo_b := v_undo_b || k;
          v_undo_b_amt := v_undo_b_amt || v_amount;
          FOR v_rule IN SELECT value FROM jsonb_array_elements(l->'budgets') LOOP
            k := (v_rule->>'own')::int;
            v_bamount := coalesce((v_rule->'rule'->>'amount')::numeric, v_amount);
            c_consumed[k] := c_consumed[k] + v_bamount;
            v_undo_c := v_undo_c || k;
            v_undo_c_amt := v_undo_c_amt || v_bamount;
          END LOOP;
          v_warning := v_warning OR (l->'line'->>'level' IN ('absolute', 'advisory') AND v_budget - v_consumed - v_amount < 0);
        END IF;
        v_all := v_all AND v_taken;
        v_lines := v_lines || jsonb_build_array(jsonb_build_object(
          'lineNo', (l->'line'->>'lineNo')::int, 'taken', v_taken, 'budget', v_budget::text,
          'consumed', v_consumed::text, 'level', l->'line'->>'level',
          'toleranceHundredths', (l->'line'->>'toleranceHundredths')::int, 'pool', l->'line'->'pool',
          'frozen', v_frozen, 'budgets', v_budgets));
      END LOOP;
      -- All or nothing: one refused line gives back every hold of the request before the next is decided.
      IF NOT v_all THEN
        FOR k IN 1 .. coalesce(array_length(v_undo_b, 1), 0) LOOP
          b_consumed[v_undo_b[k]] := b_consumed[v_undo_b[k]] - v_undo_b_amt[k];
        END LOOP;
        FOR k IN 1 .. coalesce(array_length(v_undo_c, 1), 0) LOOP
          c_consumed[v_undo_c[k]] := c_consumed[v_undo_c[k]] - v_undo_c_amt[k];
        END LOOP;
      END IF;
      v_decided := v_decided || v_i;
      IF v_all THEN v_reserved := v_reserved || v_i; END IF;
      v_outcomes := v_outcomes || CASE WHEN NOT v_all THEN 'rejected' WHEN v_warning THEN 'warning' ELSE 'approved' END;
      v_records := v_records || jsonb_build_object('decidedAt', v_decided_at, 'reserved', v_all, 'lines', v_lines);
      v_out[v_i] := jsonb_build_object('kind', 'decided', 'record', v_records[cardinality(v_records)]);
    END LOOP;

    -- 5. What moved: each row once, by the sum of its holds; the reservations; the decision records.
    -- The rows are locked, so their addresses hold until this commits.
    UPDATE control_balances cb SET reserved = cb.reserved + (d.now_consumed - d.start_consumed), updated_at = now()
      FROM unnest(b_tid, b_consumed, b_start) AS d(tid, now_consumed, start_consumed)
     WHERE d.now_consumed <> d.start_consumed AND cb.ctid = d.tid;
    UPDATE control_budget_balances cb SET reserved = cb.reserved + (d.now_consumed - d.start_consumed), updated_at = now()
      FROM unnest(c_tid, c_consumed, c_start) AS d(tid, now_consumed, start_consumed)
     WHERE d.now_consumed <> d.start_consumed AND cb.ctid = d.tid;
    INSERT INTO funds_reservations (requester, idempotency_key, line_no, legal_entity, account, cost_center, period,
                                    currency, amount, dimensions, holds)
    SELECT r->>'requester', r->>'key', (x->>'lineNo')::int, r->>'legalEntity', x->>'account', x->>'costCenter',
           x->>'period', x->>'currency', (x->>'amount')::numeric, x->'dimensions',
           coalesce((SELECT jsonb_agg(jsonb_build_object('key', b->>'key', 'amount', coalesce(b->>'amount', x->>'amount')))
                       FROM jsonb_array_elements(x->'budgets') b), '[]'::jsonb)
      FROM unnest(v_reserved) i, LATERAL (SELECT p_requests->(i - 1) AS r) rr, jsonb_array_elements(r->'lines') x;
    UPDATE funds_requests f
       SET outcome = d.outcome,
           status = CASE WHEN (d.record->>'reserved')::boolean THEN 'reserved' ELSE 'rejected' END,
           answer = d.record,
           expires_at = CASE WHEN (d.record->>'reserved')::boolean AND p_requests->(d.i - 1)->>'ttl' IS NOT NULL
                             THEN now() + (p_requests->(d.i - 1)->>'ttl')::interval END
      FROM unnest(v_decided, v_outcomes, v_records) AS d(i, outcome, record)
     WHERE f.ctid = v_claim_tid[d.i];
  END IF;

  -- Claims of requests refused before their funds were looked at are given up: a retry decides afresh.
  DELETE FROM funds_requests f
   WHERE f.ctid = ANY(ARRAY(SELECT v_claim_tid[i] FROM unnest(v_claimed) i
                             WHERE v_out[i]->>'kind' IN ('model_changed', 'period_locked', 'inactive')));

  -- A key that came twice in the batch: the later copy is a repeat of the first.
  FOR v_i IN 1 .. n LOOP
    IF v_first[v_i] <> v_i THEN
      v_out[v_i] := CASE
        WHEN v_hash[v_first[v_i]] IS DISTINCT FROM p_requests->(v_i - 1)->>'hash' THEN jsonb_build_object('kind', 'key_reused')
        WHEN v_out[v_first[v_i]]->>'kind' = 'decided' THEN jsonb_set(v_out[v_first[v_i]], '{kind}', '"replayed"')
        ELSE v_out[v_first[v_i]] END;
    END IF;
  END LOOP;
  RETURN to_jsonb(v_out);
END;
$$;
--> statement-breakpoint
ALTER FUNCTION closeloop_reserve_funds_batch(jsonb) SET jit = off;
--> statement-breakpoint
-- One request is a batch of one (db/queries/budget-control.ts reserveFunds): every reservation is decided by the
-- same code, in the same lock order, and the one-request function has no caller left.
DROP FUNCTION closeloop_reserve_funds(text, text, text, text, text, jsonb, text);
