// `npm run docs:extract-fixture -- "<question>" ...`: the nearest chunks of the current version for each
// question, with embeddings, as JSON lines (GitLab's `extract_embeddings` rake task). Without questions it uses
// GitLab's four predefined ones.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { and, eq, inArray } from 'drizzle-orm';
import { documentationChunks } from '../src/db/schema/documentation-chunks.ts';
import { getCurrentDocumentationVersion } from '../src/rag/documentation-versions.ts';
import { searchDocumentation } from '../src/rag/search-documentation.ts';
import {
  createEmbedderFromArguments,
  embedderArgumentOptions,
  openMigratedDatabase,
  parseArgs,
  progress,
  runScript,
} from './docs-cli.ts';

/** The questions GitLab's UI offers and its rake task extracted fixtures for. */
const predefinedQuestions = [
  'How do I change my password in GitLab?',
  'How do I fork a project?',
  'How do I clone a repository?',
  'How do I create a template?',
];

runScript(async () => {
  const { values, positionals } = parseArgs({
    options: { ...embedderArgumentOptions, output: { type: 'string' }, limit: { type: 'string', default: '4' } },
    allowPositionals: true,
  });
  const questions = positionals.length > 0 ? positionals : predefinedQuestions;
  const embedder = createEmbedderFromArguments(values);
  const output = values.output ? createWriteStream(values.output) : process.stdout;
  const database = await openMigratedDatabase();
  try {
    const current = await getCurrentDocumentationVersion(database.db);
    if (!current) throw new Error('No documentation version is current; run npm run docs:seed first.');
    for (const question of questions) {
      const results = await searchDocumentation(database.db, {
        question,
        embedder,
        mode: 'vector-only',
        limit: Number(values.limit),
      });
      const rows = await database.db
        .select()
        .from(documentationChunks)
        .where(
          and(
            eq(documentationChunks.version, current.version),
            inArray(
              documentationChunks.id,
              results.map((result) => result.id),
            ),
          ),
        );
      for (const [rank, result] of results.entries()) {
        const row = rows.find((candidate) => candidate.id === result.id);
        if (!row) continue;
        const { id: _id, version: _version, searchVector: _searchVector, createdAt: _createdAt, ...chunk } = row;
        output.write(`${JSON.stringify({ question, rank: rank + 1, similarity: result.similarity, ...chunk })}\n`);
      }
      progress(`${question}: ${results.map((result) => result.sourcePath).join(', ')}`);
    }
  } finally {
    await database.close();
  }
  if (output !== process.stdout) {
    output.end();
    await once(output, 'finish');
  }
});
