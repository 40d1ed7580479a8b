-- The append-only event log. Runs with search_path set to the tdxq schema.

CREATE TABLE events (
    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid        NOT NULL UNIQUE,
    stream      text        NOT NULL CHECK (stream <> ''),
    version     integer     NOT NULL CHECK (version > 0),
    type        text        NOT NULL CHECK (type <> ''),
    data        jsonb       NOT NULL,
    metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (stream, version)
);

CREATE INDEX events_type_position ON events (type, position);

-- One advisory lock key per schema serializes appends from position allocation to commit, so
-- position order is commit order and a reader following positions never skips an event.
CREATE FUNCTION append_lock_key() RETURNS bigint
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT ('x' || substr(md5(current_schema() || '.events.append'), 1, 16))::bit(64)::bigint
$$;

CREATE FUNCTION events_take_append_lock() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(append_lock_key());
    RETURN NULL;
END $$;

CREATE FUNCTION events_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    -- A wake-up hint only: the payload stays empty, readers fetch from their checkpoint.
    PERFORM pg_notify(current_schema() || '_events', '');
    RETURN NULL;
END $$;

CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on %.% is refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'TQ003';
END $$;

CREATE TRIGGER events_append_lock BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_take_append_lock();
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Appends a batch in one statement: lock, idempotency check, expected versions, insert.
-- p_events: [{event_id, stream, type, data, metadata}, ...] in order.
-- p_expected: {stream: version | "any" | "no_stream"} for every stream in the batch.
CREATE FUNCTION append_events(p_events jsonb, p_expected jsonb)
RETURNS TABLE (event_id uuid, stream text, version integer, "position" bigint,
               recorded_at timestamptz, already_recorded boolean)
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    n_total     integer;
    n_found     integer;
    n_identical integer;
    first_diff  uuid;
    exp         record;
    actual      integer;
BEGIN
    PERFORM pg_advisory_xact_lock(append_lock_key());

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

    IF n_found > 0 THEN
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
        RETURN;
    END IF;

    FOR exp IN SELECT key AS s, value AS v FROM jsonb_each(p_expected) LOOP
        CONTINUE WHEN exp.v = '"any"'::jsonb;
        SELECT coalesce(max(e.version), 0) INTO actual FROM events e WHERE e.stream = exp.s;
        IF (exp.v = '"no_stream"'::jsonb AND actual <> 0)
           OR (jsonb_typeof(exp.v) = 'number' AND actual <> (exp.v)::integer) THEN
            RAISE EXCEPTION 'wrong expected version'
                USING ERRCODE = 'TQ001',
                      DETAIL = jsonb_build_object('stream', exp.s, 'expected', exp.v,
                                                  'actual', actual)::text;
        END IF;
    END LOOP;

    RETURN QUERY
    WITH incoming AS (
        SELECT (x.elem->>'event_id')::uuid AS event_id,
               x.elem->>'stream'           AS stream,
               x.elem->>'type'             AS type,
               x.elem->'data'              AS data,
               coalesce(x.elem->'metadata', '{}'::jsonb) AS metadata,
               x.ord
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(elem, ord)
    ), numbered AS (
        SELECT i.*,
               (SELECT coalesce(max(e.version), 0) FROM events e WHERE e.stream = i.stream)
               + row_number() OVER (PARTITION BY i.stream ORDER BY i.ord) AS version
          FROM incoming i
    ), inserted AS (
        INSERT INTO events (event_id, stream, version, type, data, metadata)
        SELECT n.event_id, n.stream, n.version::integer, n.type, n.data, n.metadata
          FROM numbered n
         ORDER BY n.ord
        RETURNING events.event_id, events.stream, events.version, events.position,
                  events.recorded_at
    )
    SELECT i.event_id, i.stream, i.version, i.position, i.recorded_at, false
      FROM inserted i
     ORDER BY i.position;
END $$;
