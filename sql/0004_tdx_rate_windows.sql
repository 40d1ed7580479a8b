-- One TDX rate budget shared by every worker on this schema (issue 6, item 5).
--
-- TDX counts calls per method in fixed windows, per IP address for most methods and per user
-- for reports. One row per (scope, endpoint) holds the current window: when it ends, how many
-- calls it allows and how many were granted. A worker reserves a call with one short
-- INSERT ... ON CONFLICT DO UPDATE statement; answers from TDX correct the row from their
-- X-RateLimit-* headers. The rows are a cache of TDX's counters, not history: they are updated
-- in place, unlike the event log.

CREATE TABLE tdx_rate_windows (
    scope_key    text        NOT NULL CHECK (scope_key <> ''),
    endpoint     text        NOT NULL CHECK (endpoint <> ''),
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL CHECK (window_end >= window_start),
    limit_count  integer     NOT NULL CHECK (limit_count > 0),
    used         integer     NOT NULL CHECK (used >= 0),
    -- limit_count and window_end came from TDX's headers rather than from configuration
    learned      boolean     NOT NULL DEFAULT false,
    -- TDX answered this endpoint without rate headers before ever sending them: not limited
    unlimited    boolean     NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (scope_key, endpoint)
);
