-- One PostgreSQL server, one database per service (run once by the postgres image on an
-- empty volume). Each service applies its own migrations to its database at start-up.
CREATE DATABASE products;
CREATE DATABASE orders;
CREATE DATABASE payments;
