-- The shared TDX budget learns each window's end from the answers as well as from the
-- X-RateLimit-Reset header (issue 6, item 5).
--
-- The header has whole seconds, so it says a window ends up to a second after it really does;
-- a budget that waits for it, plus its margin, opens every window just after a whole second
-- and then waits almost a full second again at the end of each one. An answer received at t
-- proves the window TDX opened before it ends no later than t + the window's length (measured
-- on our own clock, so clock skew plays no part). end_observed says window_end already holds
-- such an upper bound for the current window, so later answers can only tighten it.
ALTER TABLE tdx_rate_windows
    ADD COLUMN end_observed boolean NOT NULL DEFAULT false;
