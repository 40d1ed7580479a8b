-- Ingest asks "which tickets are on report R, with which row fingerprint" by reading the latest
-- ticket_seen / ticket_left_report per ticket stream for R; this index keeps that read small.
CREATE INDEX events_report_membership
    ON events ((data->>'report_id'), stream, position)
    WHERE type IN ('ticket_seen', 'ticket_left_report');
