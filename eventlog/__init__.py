"""The append-only event log on Postgres: models, store, migrations, subscriptions."""
