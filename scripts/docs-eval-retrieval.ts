// `npm run eval:retrieval -- [--dataset <file.jsonl>]`: recall@1/4/10 and MRR of each search mode over the current
// documentation version, without any LLM: quick enough for CI. The dataset is in the doc-questions.jsonl format
// (default: the shared set, read in place) or an eval dataset (`include` lines allowed); cases without
// `expected_sources` are left out. A bare file argument is accepted too.
import path from 'node:path';
import { loadDataset } from '../src/eval/dataset.ts';
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
  UsageError,
} from './docs-cli.ts';

const modes: DocumentationSearchMode[] = ['vector-only', 'full-text-only', 'hybrid'];

runScript(async () => {
  const { values, positionals } = parseArgs({
    options: { ...embedderArgumentOptions, dataset: { type: 'string' } },
    allowPositionals: true,
  });
  const file = path.resolve(
    values.dataset ?? positionals[0] ?? path.resolve(repositoryRoot, '../shared/data/doc-questions.jsonl'),
  );
  const questions = (await loadDataset(file)).flatMap((evalCase) =>
    evalCase.expectedSources?.length
      ? [{ question: evalCase.question, expected_sources: evalCase.expectedSources }]
      : [],
  );
  if (questions.length === 0) throw new UsageError(`${file} has no case with expected_sources`);
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
