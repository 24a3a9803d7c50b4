import { startProcess } from './bootstrap.ts';

await startProcess('all');
