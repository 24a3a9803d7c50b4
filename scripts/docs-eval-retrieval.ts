// `npm run eval:retrieval -- [questions.jsonl]`: recall@1/4/10 and MRR of each search mode over the current
// documentation version, for questions in the doc-questions.jsonl format (default: the shared set).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { firstRelevantRank, summarizeRetrieval } from '../src/rag/retrieval-metrics.ts';
import { type DocumentationSearchMode, searchDocumentation } from '../src/rag/search-documentation.ts';
import {
  createEmbedderFromArguments,
  embedderArgumentOptions,
  openMigratedDatabase,
  parseArgs,
  progress,
  repositoryRoot,
  runScript,
} from './docs-cli.ts';

const questionSchema = z.object({ question: z.string().min(1), expected_sources: z.array(z.string()).min(1) });
const modes: DocumentationSearchMode[] = ['vector-only', 'full-text-only', 'hybrid'];

runScript(async () => {
  const { values, positionals } = parseArgs({ options: { ...embedderArgumentOptions }, allowPositionals: true });
  const file = path.resolve(positionals[0] ?? path.resolve(repositoryRoot, '../shared/data/doc-questions.jsonl'));
  const questions = (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => questionSchema.parse(JSON.parse(line)));
  const embedder = createEmbedderFromArguments(values);
  const vectors = await embedder.embed(questions.map((question) => question.question));
  const database = await openMigratedDatabase();
  try {
    process.stdout.write('| mode | recall@1 | recall@4 | recall@10 | MRR |\n|---|---:|---:|---:|---:|\n');
    for (const mode of modes) {
      const ranks: (number | undefined)[] = [];
      for (const [index, question] of questions.entries()) {
        const results = await searchDocumentation(database.db, {
          question: question.question,
          queryEmbedding: vectors[index] ?? [],
          embeddingModel: embedder.model,
          mode,
          limit: 10,
        });
        ranks.push(firstRelevantRank(results, question.expected_sources));
      }
      const summary = summarizeRetrieval(ranks);
      process.stdout.write(
        `| ${mode} | ${summary.recallAt1.toFixed(2)} | ${summary.recallAt4.toFixed(2)} | ${summary.recallAt10.toFixed(2)} | ${summary.meanReciprocalRank.toFixed(3)} |\n`,
      );
      progress(`${mode}: ${questions.length} questions`);
    }
  } finally {
    await database.close();
  }
});
