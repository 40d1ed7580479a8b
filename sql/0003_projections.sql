-- Projections: checkpoints, the action log read model, and the seed's monitoring views.
-- Runs with search_path set to the tdxq schema.

-- One row per projection (and per rebuild in progress, named '{projection}__shadow'): the
-- position of the last event read. Written in the same transaction as the rows it covers.
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0 CHECK (position >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The seed's meta.daemon_action_log, as a projection of the ticket streams. The seed's columns
-- come first, in its order (executed_at is timestamptz: the seed stored naive UTC times);
-- then what the event log adds. Index names follow Postgres' own convention so that a rebuilt
-- table gets the very same names back after the swap.
CREATE TABLE daemon_action_log (
    log_id           uuid         NOT NULL,
    ticket_id        integer      NOT NULL,
    action_type      varchar(100) NOT NULL,
    action_id        varchar(255) NOT NULL,
    action_hash      varchar(64),
    executed_at      timestamptz,
    status           varchar(20)  NOT NULL
        CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'skipped')),
    error_message    text,
    metadata         jsonb        NOT NULL DEFAULT '{}'::jsonb,
    attempts         integer      NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    lease_expires_at timestamptz,
    last_position    bigint       NOT NULL,
    CONSTRAINT daemon_action_log_pkey PRIMARY KEY (log_id),
    CONSTRAINT daemon_action_log_ticket_id_action_id_key UNIQUE (ticket_id, action_id)
);

CREATE INDEX daemon_action_log_executed_at_idx ON daemon_action_log (executed_at DESC);
CREATE INDEX daemon_action_log_status_action_type_idx ON daemon_action_log (status, action_type);

COMMENT ON TABLE daemon_action_log IS
    'Projection of the ticket streams: one row per (ticket, action id); rebuilt by '
    '"tdxq projections rebuild daemon_action_log". Never written by hand.';
COMMENT ON COLUMN daemon_action_log.status IS
    'As recorded: running, waiting (retryable failure or honoured retry request), completed, '
    'failed, skipped. in_doubt (running, lease expired) is derived in daemon_action_status.';

-- The status as decisions see it: a running action whose lease has expired is in doubt.
-- in_doubt depends on the clock, so it cannot be a stored column of an event projection.
CREATE VIEW daemon_action_status AS
SELECT
    log_id,
    ticket_id,
    action_type,
    action_id,
    action_hash,
    executed_at,
    (CASE WHEN status = 'running' AND lease_expires_at <= CURRENT_TIMESTAMP
          THEN 'in_doubt' ELSE status END)::varchar(20) AS status,
    error_message,
    metadata,
    attempts,
    first_attempt_at,
    lease_expires_at,
    last_position
FROM daemon_action_log;

-- The seed's two monitoring views, column for column, over the effective status.
CREATE VIEW daemon_activity_summary AS
SELECT
    action_type,
    status,
    COUNT(*) AS action_count,
    MAX(executed_at) AS last_executed,
    MIN(executed_at) AS first_executed
FROM daemon_action_status
GROUP BY action_type, status
ORDER BY action_type, status;

CREATE VIEW daemon_recent_activity AS
SELECT
    log_id,
    ticket_id,
    action_type,
    action_id,
    status,
    executed_at,
    error_message
FROM daemon_action_status
WHERE executed_at >= CURRENT_TIMESTAMP - INTERVAL '24 hours'
ORDER BY executed_at DESC;

INSERT INTO projection_checkpoints (name, position) VALUES ('daemon_action_log', 0);
