-- CREATE INDEX CONCURRENTLY cannot run inside a transaction.
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY users_created_at ON users (created_at);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY users_created_at;
