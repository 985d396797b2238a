"""SQL migrations of the vision service (applied by clipsift_common.db.migrate)."""
