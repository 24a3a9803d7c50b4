-- pgvector holds documentation embeddings; drizzle-kit does not create extensions by itself.
CREATE EXTENSION IF NOT EXISTS vector;
