-- Per-tenant index of image signatures for near-duplicate queries. Hashes are 64-bit values stored
-- as signed bigint (same bits); the mirror image's hashes sit beside them. Embeddings are
-- L2-normalised MobileNetV2 features (real[], NULL when indexed without embeddings).
CREATE TABLE IF NOT EXISTS image_index (
    tenant_id   text        NOT NULL,
    image_id    text        NOT NULL,
    phash       bigint      NOT NULL,
    dhash       bigint      NOT NULL,
    whash       bigint      NOT NULL,
    mirror_phash bigint     NOT NULL,
    mirror_dhash bigint     NOT NULL,
    mirror_whash bigint     NOT NULL,
    embedding   real[],
    width       integer     NOT NULL,
    height      integer     NOT NULL,
    indexed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, image_id)
);
