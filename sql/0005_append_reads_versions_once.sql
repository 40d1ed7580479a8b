-- append_events, faster: current stream versions are read once per stream (not once for the
-- check and again per row), and the event-id idempotency check runs only when an insert hits
-- an existing event id, instead of a lookup per event on every append.
CREATE OR REPLACE FUNCTION append_events(p_events jsonb, p_expected jsonb)
RETURNS TABLE (event_id uuid, stream text, version integer, "position" bigint,
               recorded_at timestamptz, already_recorded boolean)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    current_versions jsonb;
    exp              record;
    actual           integer;
    n_total          integer;
    n_found          integer;
    n_identical      integer;
    first_diff       uuid;
BEGIN
    PERFORM pg_advisory_xact_lock(append_lock_key());

    SELECT coalesce(jsonb_object_agg(s.name, (SELECT coalesce(max(e.version), 0)
                                                FROM events e WHERE e.stream = s.name)), '{}')
      INTO current_versions
      FROM (SELECT DISTINCT x.elem->>'stream' AS name
              FROM jsonb_array_elements(p_events) AS x(elem)) s;

    FOR exp IN SELECT key AS s, value AS v FROM jsonb_each(p_expected) LOOP
        CONTINUE WHEN exp.v = '"any"'::jsonb;
        actual := coalesce((current_versions->>exp.s)::integer, 0);
        IF (exp.v = '"no_stream"'::jsonb AND actual <> 0)
           OR (jsonb_typeof(exp.v) = 'number' AND actual <> (exp.v)::integer) THEN
            -- A stale expectation may still be the idempotent re-append of a landed batch.
            IF NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p_events) AS x(elem)
                             JOIN events e ON e.event_id = (x.elem->>'event_id')::uuid) THEN
                RAISE EXCEPTION 'wrong expected version'
                    USING ERRCODE = 'TQ001',
                          DETAIL = jsonb_build_object('stream', exp.s, 'expected', exp.v,
                                                      'actual', actual)::text;
            END IF;
            current_versions := NULL;  -- fall through to the idempotency check below
            EXIT;
        END IF;
    END LOOP;

    IF current_versions IS NOT NULL THEN
        BEGIN
            RETURN QUERY
            WITH incoming AS (
                SELECT (x.elem->>'event_id')::uuid AS event_id,
                       x.elem->>'stream'           AS stream,
                       x.elem->>'type'             AS type,
                       x.elem->'data'              AS data,
                       coalesce(x.elem->'metadata', '{}'::jsonb) AS metadata,
                       x.ord
                  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(elem, ord)
            ), inserted AS (
                INSERT INTO events (event_id, stream, version, type, data, metadata)
                SELECT i.event_id, i.stream,
                       ((current_versions->>i.stream)::integer
                        + row_number() OVER (PARTITION BY i.stream ORDER BY i.ord))::integer,
                       i.type, i.data, i.metadata
                  FROM incoming i
                 ORDER BY i.ord
                RETURNING events.event_id, events.stream, events.version, events.position,
                          events.recorded_at
            )
            SELECT i.event_id, i.stream, i.version, i.position, i.recorded_at, false
              FROM inserted i
             ORDER BY i.position;
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            -- Under the append lock (stream, version) cannot collide: an event id did.
            NULL;
        END;
    END IF;

    n_total := jsonb_array_length(p_events);
    SELECT count(*),
           count(*) FILTER (WHERE e.stream = x.elem->>'stream'
                              AND e.type = x.elem->>'type'
                              AND e.data = x.elem->'data'),
           min(e.event_id::text) FILTER (WHERE NOT (e.stream = x.elem->>'stream'
                              AND e.type = x.elem->>'type'
                              AND e.data = x.elem->'data'))
      INTO n_found, n_identical, first_diff
      FROM jsonb_array_elements(p_events) AS x(elem)
      JOIN events e ON e.event_id = (x.elem->>'event_id')::uuid;

    IF n_identical < n_found THEN
        RAISE EXCEPTION 'event id already recorded with different content'
            USING ERRCODE = 'TQ002', DETAIL = first_diff::text;
    END IF;
    IF n_found < n_total THEN
        RAISE EXCEPTION 'batch mixes already recorded and new events'
            USING ERRCODE = 'TQ002', DETAIL = '';
    END IF;
    RETURN QUERY
        SELECT e.event_id, e.stream, e.version, e.position, e.recorded_at, true
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(elem, ord)
          JOIN events e ON e.event_id = (x.elem->>'event_id')::uuid
         ORDER BY x.ord;
END $$;
