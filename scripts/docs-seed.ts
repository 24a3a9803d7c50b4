// `npm run docs:seed -- [folder]`: chunks, embeds and stores a documentation folder as a new version, then
// makes it current. Interrupt it at any time: the previous version keeps serving and the next run resumes.
import path from 'node:path';
import { readDocumentationFolder } from '../src/rag/read-documentation-pages.ts';
import { seedDocumentation } from '../src/rag/seed-documentation.ts';
import {
  createEmbedderFromArguments,
  defaultDocumentationFolder,
  embedderArgumentOptions,
  openMigratedDatabase,
  parseArgs,
  progress,
  runScript,
} from './docs-cli.ts';

runScript(async () => {
  const { values, positionals } = parseArgs({
    options: { ...embedderArgumentOptions, 'base-docs-url': { type: 'string' } },
    allowPositionals: true,
  });
  const folder = path.resolve(positionals[0] ?? defaultDocumentationFolder);
  const embedder = createEmbedderFromArguments(values);
  const started = performance.now();
  const pages = await readDocumentationFolder(
    folder,
    values['base-docs-url'] ? { baseUrl: values['base-docs-url'] } : {},
  );
  progress(`Read ${pages.length} pages from ${folder}; embedding with ${embedder.model}`);
  const database = await openMigratedDatabase();
  const controller = new AbortController();
  // The first Ctrl-C stops after the current step, so the stored pages stay consistent for the next run.
  process.once('SIGINT', () => {
    progress('Stopping after the current step; run the same command again to resume.');
    controller.abort();
  });
  try {
    const result = await seedDocumentation(database.db, {
      pages,
      embedder,
      origin: folder,
      signal: controller.signal,
      onProgress(step) {
        const seconds = (performance.now() - started) / 1_000;
        progress(
          `version ${step.version}: ${step.pagesDone}/${step.pagesTotal} pages, ${step.chunksDone}/${step.chunksTotal} chunks (${step.embedded} embedded, ${step.reused} reused) ${seconds.toFixed(1)}s`,
        );
      },
    });
    progress(
      `Version ${result.version} is current: ${result.chunksTotal} chunks from ${result.pagesTotal} pages${result.resumed ? ' (resumed)' : ''}; ${result.embedded} embedded, ${result.reused} reused.`,
    );
  } finally {
    await database.close();
  }
});
