// `npm run docs:import -- <file.jsonl>`: loads a `docs:export` file as a new version and makes it current.
// Resumable: pages already stored by an interrupted import are skipped.
import { readFile } from 'node:fs/promises';
import { importDocumentationChunks, parseExportedChunks } from '../src/rag/documentation-transfer.ts';
import { openMigratedDatabase, parseArgs, progress, runScript, UsageError } from './docs-cli.ts';

runScript(async () => {
  const { positionals } = parseArgs({ allowPositionals: true });
  const file = positionals[0];
  if (!file) throw new UsageError('Usage: npm run docs:import -- <file.jsonl>');
  const chunks = parseExportedChunks(await readFile(file, 'utf8'));
  progress(`Read ${chunks.length} chunks from ${file}`);
  const database = await openMigratedDatabase();
  try {
    const result = await importDocumentationChunks(database.db, chunks, {
      origin: file,
      onProgress(step) {
        if (step.pagesDone % 10 === 0 || step.pagesDone === step.pagesTotal) {
          progress(`${step.pagesDone}/${step.pagesTotal} pages, ${step.chunksDone} chunks`);
        }
      },
    });
    progress(`Version ${result.version} is current: ${result.chunks} chunks from ${result.pages} pages.`);
  } finally {
    await database.close();
  }
});
