// `npm run eval:datasets [-- --check]`: writes the evaluation datasets built from the evaluation world
// (question templates × the issues, epics, merge requests and jobs of `seeds/gitlab-duo-world.yml`, with
// their facts as reference answers) to eval/datasets/. `--check` writes nothing and fails when a file is stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadGitlabDuoWorld } from '../seeds/gitlab-duo-world.ts';
import { generatedDatasetFiles } from '../src/eval/question-templates.ts';

const datasetsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../eval/datasets');
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const files = generatedDatasetFiles(loadGitlabDuoWorld());
mkdirSync(datasetsFolder, { recursive: true });
let stale = 0;
for (const [name, content] of Object.entries(files)) {
  const file = path.join(datasetsFolder, name);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === content) continue;
  stale += 1;
  if (values.check) process.stderr.write(`${path.relative(process.cwd(), file)} is out of date\n`);
  else {
    writeFileSync(file, content);
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)} (${content.trim().split('\n').length} lines)\n`);
  }
}
if (values.check && stale > 0) {
  process.stderr.write('Run `npm run eval:datasets` and commit the result.\n');
  process.exitCode = 1;
} else if (stale === 0) process.stdout.write('Datasets are up to date.\n');
