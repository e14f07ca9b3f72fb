-- Issue 23: the set-based month-end load stages each line of a ledger export whole (COPY cannot keep a row
-- with too few or too many fields: it stops the load) and splits it here. A line without quotes splits on
-- commas; a quoted field ("a, b", "say ""hi""") is read as csv-parse reads it: its quotes removed, a doubled
-- quote one quote. Each field is preceded by a comma in the matched text, so the last field ends the matches.
CREATE FUNCTION closeloop_csv_fields(p_line text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(CASE WHEN m[1] ~ '^\s*"' THEN replace(substring(m[1] from '^\s*"(.*)"\s*$'), '""', '"')
                        ELSE m[1] END ORDER BY o)
    FROM regexp_matches(',' || p_line, ',(\s*"(?:[^"]|"")*"\s*|[^,]*)', 'g') WITH ORDINALITY AS r(m, o)
$$;
