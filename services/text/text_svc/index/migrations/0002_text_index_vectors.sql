-- Embeddings of semantic indexes in pgvector with an HNSW index, where the server has pgvector.
-- Without it (or without the right to create it) nothing happens here, and the service keeps
-- its vector index in the blob store instead (see vectors.py).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS vector;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pgvector is installed but cannot be enabled: %', SQLERRM;
            RETURN;
        END;
        -- 384: all-MiniLM-L6-v2, the packaged model; the service checks the model matches.
        CREATE TABLE text_index_vectors (
            document_id bigint PRIMARY KEY REFERENCES text_index_documents (id) ON DELETE CASCADE,
            index_id    bigint NOT NULL,
            embedding   vector(384) NOT NULL
        );
        CREATE INDEX text_index_vectors_hnsw ON text_index_vectors USING hnsw (embedding vector_cosine_ops);
        CREATE INDEX text_index_vectors_index ON text_index_vectors (index_id);
    END IF;
END
$$;
