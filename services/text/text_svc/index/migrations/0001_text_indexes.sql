-- Persistent per-tenant text indexes. An index belongs to one tenant; every lookup names both.
CREATE TABLE text_indexes (
    id           bigserial PRIMARY KEY,
    tenant_id    text NOT NULL,
    name         text NOT NULL,
    semantic     boolean NOT NULL,
    -- Shingling and LSH layout the index was built with: fixed for its lifetime, since stored
    -- signatures and band keys are only comparable with ones computed the same way.
    shingle_size integer NOT NULL,
    num_perm     integer NOT NULL,
    bands        integer NOT NULL,
    rows         integer NOT NULL,
    documents    bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE text_index_documents (
    id           bigserial PRIMARY KEY,
    index_id     bigint NOT NULL REFERENCES text_indexes (id) ON DELETE CASCADE,
    external_id  text NOT NULL,
    title        text NOT NULL DEFAULT '',
    body         text NOT NULL,
    -- SHA-1 of the normalised text (exact duplicates), MinHash signature (num_perm little-endian
    -- uint32), and the unit-length float32 embedding of semantic indexes (the source the vector
    -- index is built from).
    content_sha1 text NOT NULL,
    signature    bytea NOT NULL,
    embedding    bytea,
    added_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (index_id, external_id)
);

-- LSH band buckets: a near-duplicate query is one lookup per band, then exact verification.
-- No foreign key: bulk adds write ~bands rows per document, and the store deletes them itself.
CREATE TABLE text_index_bands (
    index_id    bigint NOT NULL,
    band        smallint NOT NULL,
    key         bigint NOT NULL,
    document_id bigint NOT NULL
);
CREATE INDEX text_index_bands_lookup ON text_index_bands (index_id, band, key);
CREATE INDEX text_index_bands_document ON text_index_bands (document_id);

-- A sample of each document's shingle hashes (those divisible by the sampling factor): the
-- candidates of a passage comparison are the documents sharing the most of them with the query.
CREATE TABLE text_index_fingerprints (
    index_id    bigint NOT NULL,
    hash        bigint NOT NULL,
    document_id bigint NOT NULL
);
CREATE INDEX text_index_fingerprints_lookup ON text_index_fingerprints (index_id, hash);
CREATE INDEX text_index_fingerprints_document ON text_index_fingerprints (document_id);
