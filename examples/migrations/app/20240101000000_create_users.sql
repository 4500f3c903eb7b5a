-- migrate:up
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email varchar(200) NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'people who log in';

-- migrate:down
DROP TABLE users;
