// `npm run schema:print`: writes the GraphQL SDL to schema.graphql, which a test compares with the code.
import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/schema/index.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), `${printedSchema}\n`);
process.stdout.write('schema.graphql written\n');
