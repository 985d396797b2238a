-- Each tenant's index of video fingerprints for near-duplicate queries.
CREATE TABLE video_fingerprints (
    tenant_id  text NOT NULL,
    video_id   text NOT NULL,
    name       text NOT NULL DEFAULT '',
    duration   double precision NOT NULL CHECK (duration > 0),
    fps        double precision NOT NULL CHECK (fps > 0),
    frames     integer NOT NULL CHECK (frames >= 0),
    hashes     bytea NOT NULL,   -- frames x (pHash, dHash), little-endian uint64
    valid      bytea NOT NULL,   -- one bit per frame: textured enough to match
    source_job uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, video_id)
);
