-- 019_migration_checksums: schema_migrations keeps the sha256 of each migration.
--
-- cchc-server and `cchc migrate` compare every recorded checksum with the one
-- of the file embedded in their build (srv_migrate.c) and refuse to start when
-- they differ: an applied migration was edited, and databases that claim the
-- same version would hold different schemas. The row of this migration and of
-- every later one is written with its checksum. The rows applied before this
-- one (001-018) have none: the same run gives them the checksums of the files
-- embedded in the build that runs it (trust on first use); server/sql/CHECKSUMS,
-- compared with the files by the test suite, is what vouches for those.
--
-- Lowercase hex, as sha256sum and CMake's file(SHA256) print it. NULL only on
-- a row not yet given one (a migration applied before this one).
ALTER TABLE schema_migrations
    ADD COLUMN checksum text CHECK (checksum ~ '^[0-9a-f]{64}$');

COMMENT ON COLUMN schema_migrations.checksum IS
    'sha256 (hex) of the migration file as applied; an edited applied migration is refused';
