// `npm run docs:export -- [--output file.jsonl]`: the current documentation version as JSON lines, one chunk
// with its embedding per line (stdout unless --output is given).

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { exportDocumentationChunks } from '../src/rag/documentation-transfer.ts';
import { openMigratedDatabase, parseArgs, progress, runScript } from './docs-cli.ts';

runScript(async () => {
  const { values } = parseArgs({ options: { output: { type: 'string' } } });
  const output = values.output ? createWriteStream(values.output) : process.stdout;
  const database = await openMigratedDatabase();
  let count = 0;
  try {
    for await (const chunk of exportDocumentationChunks(database.db)) {
      if (!output.write(`${JSON.stringify(chunk)}\n`)) await once(output, 'drain');
      count += 1;
      // Every 100 rows, like GitLab's seed task.
      if (count % 100 === 0) progress(`${count} chunks exported`);
    }
  } finally {
    await database.close();
  }
  if (output !== process.stdout) {
    output.end();
    await once(output, 'finish');
  }
  progress(`Exported ${count} chunks${values.output ? ` to ${values.output}` : ''}.`);
});
